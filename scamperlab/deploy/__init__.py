"""Deploying a lab-tested script unchanged to Ark (or any host with a mux) over SSH.

Needs the ``deploy`` extra (paramiko), except for the static check of a script.
May import: ``scamperlab.lab`` and every layer below it. Not ``audit`` or
``inventory`` (its siblings), nor the CLI or the pytest plugin above it.

The pieces are small on purpose, one concern each:

- :mod:`~scamperlab.deploy.sshconn`: ``~/.ssh/config`` resolution, host-key
  checking and authentication (paramiko), with errors that say what to do;
- :mod:`~scamperlab.deploy.upload`: which local files a script needs, SFTP
  up and back;
- :mod:`~scamperlab.deploy.remote`: the code that runs on the far side (a
  probe and a launcher) and the live streaming of a run;
- :mod:`~scamperlab.deploy.scriptcheck`: the static check of a script
  against a ``scamper`` module version and Ark's installed modules;
- :mod:`~scamperlab.deploy.command`: ``scamperlab deploy`` and
  ``scamperlab check SCRIPT`` put together;
- the lab's own "Ark controller" host, a real OpenSSH server, is part of the
  lab (:mod:`scamperlab.lab.sshd`), so the above is tested end to end on one
  machine.
"""
