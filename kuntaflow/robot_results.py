"""Reads one finished robot's ``output.xml`` and builds its ``log.html``/``report.html``, in a process of its own.

``python -m kuntaflow.robot_results <output dir>`` masks ``output.xml`` once more
(schemas/redaction.py), lists the suite's tasks as JSON on stdout (``{"complete": …,
"tasks": [[name, status, message], …]}``) and runs rebot, with rebot's own console in
``rebot.txt``. The robot runner (kuntaflow/robot_runner.py) starts it after a robot whose
``output.xml`` is big, and calls :func:`read_and_build_log` itself for a small one.

Why a process: parsing a big batch's ``output.xml`` and rebot take seconds of CPU. In the
flow-run process they held the GIL from everything else there (the other batches' bookkeeping,
Prefect's client; in the benchmarks the sandboxes themselves), and Robot Framework's result
reading and rebot keep process-wide state, so two batches finishing at once had to take turns.
Here each batch's reading runs beside the others on its own CPU. For a small batch, starting
the process (~0.5 s) costs more than the reading.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from robot import rebot
from robot.api import ExecutionResult
from robot.errors import DataError

from schemas.redaction import redact_file


def read_and_build_log(output_dir: Path) -> dict[str, object]:
    """Mask ``output.xml``, list its tasks and build the log; ``complete`` is False when the file
    is missing or cut short (a robot killed while writing it: its items' outcomes are in the queue)."""
    output = output_dir / "output.xml"
    if not output.exists():
        return {"complete": False, "tasks": []}
    redact_file(output)
    try:
        result = ExecutionResult(str(output))
    except DataError:
        return {"complete": False, "tasks": []}
    tasks = [[test.name, test.status, test.message] for test in result.suite.all_tests]
    with open(output_dir / "rebot.txt", "w", encoding="utf-8") as sink:
        rebot(str(output), outputdir=str(output_dir), output="NONE", log="log.html", report="report.html", stdout=sink, stderr=sink)
    return {"complete": True, "tasks": tasks}


if __name__ == "__main__":
    print(json.dumps(read_and_build_log(Path(sys.argv[1]))))
