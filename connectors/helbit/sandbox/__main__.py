"""Serve the Helbit sandbox on its own: ``python -m connectors.helbit.sandbox --port 8084`` (UI at ``/ui/login``)."""

from __future__ import annotations

import argparse

import uvicorn

from connectors.helbit.sandbox import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Helbit-like recruitment system sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8084)
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
