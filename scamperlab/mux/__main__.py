"""``python -m scamperlab.mux``: the standalone mux (see :mod:`scamperlab.mux.standalone`)."""

from scamperlab.mux.standalone import main

raise SystemExit(main())
