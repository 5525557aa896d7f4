"""Serve the sandbox IdP on its own: ``python -m connectors.suomifi_tunnistus.sandbox --port 8090``.

The e-service must then trust it there: ``KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL=http://127.0.0.1:8090``
(the IdP's entityID and endpoints derive from that URL, in both processes).
"""

from __future__ import annotations

import argparse

import uvicorn

from connectors.suomifi_tunnistus.sandbox import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Suomi.fi e-Identification sandbox IdP")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    base_url = f"http://{args.host}:{args.port}"
    print(f"Test persons: {base_url}/  (metadata {base_url}/static/metadata/idp-metadata.xml)")
    print(f"The e-service must have KUNTAFLOW_SUOMIFI_SANDBOX_IDP_URL={base_url}")
    uvicorn.run(create_app(base_url=base_url), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
