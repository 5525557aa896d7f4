"""Serve the e-mail sandbox on its own: ``python -m connectors.email.sandbox --smtp-port 8025 --port 8026``.

SMTP on ``--smtp-port``, the mailbox pages on ``--port`` (``/_sandbox/mailbox``). With
``--data-dir`` every accepted message is also written there as an .eml file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from connectors.email.sandbox import Mailbox, create_app, serve_smtp


def main() -> None:
    parser = argparse.ArgumentParser(description="E-mail (SMTP) sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8026, help="web pages")
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--data-dir", type=Path, default=None, help="also keep each message as an .eml file here")
    args = parser.parse_args()
    app = create_app(Mailbox(data_dir=args.data_dir))
    with serve_smtp(app, host=args.host, port=args.smtp_port):
        uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
