"""Fetch a URL from the mux's first VP and print the status and the response headers.

scamperlab run topologies/ark-mini.yaml -- python3 examples/http_fetch.py {mux} \
    203.0.113.80 https://www.lab.example/

HTTPS validates as on the Internet: every VP of the lab trusts the lab's CA.
scamper has the ``http`` command since 20240117; on an older one, as Debian's
20211212, the lab fetches in the VP's stead (a stand-in, from the VP's
namespace and address) and the result is the same. Should the fetch be
refused all the same (stand-ins turned off), this script says so and exits
with status 2.
"""

import sys

from scamper import ScamperCtrl, ScamperInstError


def main() -> None:
    mux, dst, url = sys.argv[1], sys.argv[2], sys.argv[3]
    ctrl = ScamperCtrl(mux=mux)
    inst = ctrl.add_vps(ctrl.vps()[0])[0]
    try:
        http = ctrl.do_http(dst, url, inst=inst, sync=True)
    except ScamperInstError as exc:
        print(f"{inst.name}: the VP's scamper refused the fetch: {exc}")
        sys.exit(2)
    finally:
        inst.done()
    print(f"{inst.name}: {http.url} -> HTTP {http.status_code}")
    for name, value in sorted((http.response_hdrs or {}).items()):
        print(f"  {name}: {value}")


if __name__ == "__main__":
    main()
