"""Serve the OIDC sandbox on its own: ``python -m connectors.oidc.sandbox --port 8091``.

The staff app must then sign in there: ``KUNTAFLOW_OIDC_ISSUER=http://127.0.0.1:8091`` (the issuer is
the sandbox's address, in both processes; both read the client's secret from the same data directory).
"""

from __future__ import annotations

import argparse

import uvicorn

from connectors.oidc.sandbox import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="OpenID Connect sandbox provider for staff sign-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    args = parser.parse_args()
    issuer = f"http://{args.host}:{args.port}"
    print(f"Discovery: {issuer}/.well-known/openid-configuration  (staff: {issuer}/_sandbox/staff)")
    print(f"The staff app must have KUNTAFLOW_OIDC_ISSUER={issuer}")
    uvicorn.run(create_app(issuer=issuer), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
