"""Serve the register sandbox on its own: ``python -m connectors.valvira.sandbox --port 8085``."""

from __future__ import annotations

import argparse

import uvicorn

from connectors.valvira.sandbox import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Professional register lookup sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8085)
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
