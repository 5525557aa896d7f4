"""Serve the HR sandbox on its own: ``python -m connectors.hr.sandbox --port 8082`` (API under ``/api/v1``)."""

from __future__ import annotations

import argparse

import uvicorn

from connectors.hr.sandbox import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="HR/payroll REST API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
