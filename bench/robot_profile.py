"""Robot Framework listener for the benchmarks: a pyinstrument profile of a whole robot process.

Not part of the engine. Switch it on for every robot a flow starts through Robot Framework's own
``ROBOT_OPTIONS`` (the flow's process and its robot subprocesses inherit the environment)::

    ROBOT_OPTIONS="--listener bench.robot_profile.RobotProfile"
    KUNTAFLOW_BENCH_ROBOT_PROFILE_DIR=/tmp/profiles      # one text profile per robot process

The profiler starts when Robot Framework creates the listener (after its own start-up and the
suite's parsing, before the keyword libraries are imported) and stops when the robot closes its
listeners, after output.xml is written. The profile holds function names and files, never values.
"""

from __future__ import annotations

import os
from pathlib import Path

PROFILE_DIR_ENV = "KUNTAFLOW_BENCH_ROBOT_PROFILE_DIR"


class RobotProfile:
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self) -> None:
        from pyinstrument import Profiler

        self.directory = os.environ.get(PROFILE_DIR_ENV)
        self.profiler = Profiler(interval=0.001)
        if self.directory:
            self.profiler.start()

    def close(self) -> None:
        if not self.directory:
            return
        self.profiler.stop()
        target = Path(self.directory)
        target.mkdir(parents=True, exist_ok=True)
        (target / f"robot-{os.getpid()}.txt").write_text(self.profiler.output_text(unicode=False, color=False, show_all=False), encoding="utf-8")
        self.profiler.last_session.save(str(target / f"robot-{os.getpid()}.pyisession"))
