"""Reads one finished robot's ``output.xml``; builds its ``log.html``/``report.html`` only when asked.

:func:`read_results` masks ``output.xml`` once more (schemas/redaction.py) and lists the suite's
tasks from the same text, so the file is read once. ``python -m kuntaflow.robot_results <output
dir>`` does that in a process of its own and prints the result as JSON (``{"complete": …,
"tasks": [[name, status, message], …]}``); the robot runner (kuntaflow/robot_runner.py) starts it
after a robot whose ``output.xml`` is big, and calls :func:`read_results` itself for a small one.

:func:`build_log` runs rebot on the masked ``output.xml`` (rebot's console in ``rebot.txt``). Nobody
reads most batches' logs, and rebot cost about a second of CPU for a batch of 250 applications, so
it runs when someone opens a log: ``kuntaflow robot-log <folder or log.html>``.

Why a process for a big file: parsing a big batch's ``output.xml`` takes seconds of CPU, which in
the flow-run process held the GIL from everything else there, and Robot Framework's result reading
keeps process-wide state, so two batches finishing at once had to take turns.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from robot import rebot
from robot.api import ExecutionResult
from robot.errors import DataError

from schemas.redaction import redact

OUTPUT_XML = "output.xml"
LOG_HTML = "log.html"


def _masked_output(output: Path) -> str:
    """``output.xml`` masked, written back only if masking changed it; its text."""
    text = output.read_text(encoding="utf-8", errors="replace")
    masked = redact(text)
    if masked != text:
        output.write_text(masked, encoding="utf-8")
    return masked


def read_results(output_dir: Path) -> dict[str, object]:
    """Mask ``output.xml`` and list its tasks from the masked text; ``complete`` is False when the file
    is missing or cut short (a robot killed while writing it: its items' outcomes are in the queue)."""
    output = output_dir / OUTPUT_XML
    if not output.exists():
        return {"complete": False, "tasks": []}
    masked = _masked_output(output)
    try:
        # The tasks' results only: keywords are most of the file, and building them is most of the reading.
        result = ExecutionResult(masked, include_keywords=False)
    except DataError:
        return {"complete": False, "tasks": []}
    return {"complete": True, "tasks": [[test.name, test.status, test.message] for test in result.suite.all_tests]}


class RobotLogError(Exception):
    """There is no complete ``output.xml`` to build a log from."""


def build_log(where: Path) -> Path:
    """Build ``log.html`` and ``report.html`` of the robot run in ``where`` (its folder, or a file in
    it) from its masked ``output.xml``, unless they are newer than it; the log's path.

    Raises:
        RobotLogError: no ``output.xml`` there, or one cut short (a killed robot: see console.txt).
    """
    output_dir = where if where.is_dir() else where.parent
    output, log = output_dir / OUTPUT_XML, output_dir / LOG_HTML
    if not output.exists():
        raise RobotLogError(f"{output_dir} has no {OUTPUT_XML}: not a robot run's folder, or the robot was killed before writing it")
    if log.exists() and log.stat().st_mtime >= output.stat().st_mtime:
        return log
    masked = _masked_output(output)
    try:
        ExecutionResult(masked)
    except DataError as error:
        raise RobotLogError(f"{output} is cut short (the robot was stopped while writing it); its console is in console.txt") from error
    with open(output_dir / "rebot.txt", "w", encoding="utf-8") as sink:
        rebot(str(output), outputdir=str(output_dir), output="NONE", log=LOG_HTML, report="report.html", stdout=sink, stderr=sink)
    return log


if __name__ == "__main__":
    print(json.dumps(read_results(Path(sys.argv[1]))))
