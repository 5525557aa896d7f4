"""Serve the Valtuudet sandbox on its own: ``python -m connectors.suomifi_valtuudet.sandbox --port 8086``."""

from __future__ import annotations

import argparse

import uvicorn

from connectors.suomifi_valtuudet.sandbox import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Suomi.fi Valtuudet HPA web API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8086)
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
