"""Serve the service desk sandbox on its own: ``python -m connectors.servicedesk.sandbox --port 8083``."""

from __future__ import annotations

import argparse

import uvicorn

from connectors.servicedesk.sandbox import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Service desk REST API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8083)
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
