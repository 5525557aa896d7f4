"""Serve the Suomi.fi Messages sandbox on its own: ``python -m connectors.suomifi_viestit.sandbox --port 8082``."""

from __future__ import annotations

import argparse

import uvicorn

from connectors.suomifi_viestit.sandbox import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Suomi.fi Messages REST API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    args = parser.parse_args()
    print(f"Mailboxes: http://{args.host}:{args.port}/_sandbox/mailboxes  (API root http://{args.host}:{args.port})")
    uvicorn.run(create_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
