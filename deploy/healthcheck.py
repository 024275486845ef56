"""Container health check: GET /healthz on the local web process; exit 0 when it answers 200.

Run by the image's HEALTHCHECK (deploy/Dockerfile). Standard library only, no Django: it must
be cheap and must not depend on the database (that is /readyz's job, for the load balancer).
It asks as the proxy would — Host is the first ALLOWED_HOSTS name and X-Forwarded-Proto says
https — so neither the host check nor the HTTPS redirect of DEBUG=false turns it into a 400
or a 301. Exit 1 with one line on stderr otherwise.
"""

from __future__ import annotations

import http.client
import os
import sys


def main() -> int:
    bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")[0].strip()
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"
    names = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    name = next((n for n in names if not n.startswith(".")), "localhost")
    connection = http.client.HTTPConnection(host, int(port or 8000), timeout=5)
    try:
        connection.request("GET", "/healthz", headers={"Host": name, "X-Forwarded-Proto": "https"})
        status = connection.getresponse().status
    except OSError as exc:
        print(f"healthcheck: {host}:{port}: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"healthcheck: /healthz answered {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
