"""Serve the Koha sandbox on its own: ``python -m connectors.koha.sandbox --port 8081``."""

from __future__ import annotations

import argparse

import uvicorn

from connectors.koha.sandbox import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Koha REST API v1 sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
