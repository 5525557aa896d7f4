"""``python -m flows.task_worker``: Prefect's task worker for the warm path's background tasks.

It serves ``flows.library_card.decide_application`` (the e-service calls ``.delay(item_id)`` for each
queued application) with ``prefect.task_worker.serve``: a long-lived Prefect process that receives
the task runs over the server's websocket and runs them in threads, so an application reaches a
robot without a flow-run process starting first. Background task parameters (item ids, nothing
personal) go through Prefect's result storage, ``PREFECT_LOCAL_STORAGE_PATH``, which the e-service
and this worker must share (``kuntaflow up``/``run`` put it in the data directory).
"""

from __future__ import annotations

import argparse

from prefect.task_worker import serve

from flows.library_card import decide_application

#: Background task runs at once; each waits for a ``koha`` slot or runs a robot, so a few suffice.
DEFAULT_LIMIT = 10


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help=f"task runs at once (default {DEFAULT_LIMIT})")
    args = parser.parse_args(argv)
    try:
        serve(decide_application, limit=args.limit)
    except KeyboardInterrupt:  # how kuntaflow up/run stop it
        return


if __name__ == "__main__":
    main()
