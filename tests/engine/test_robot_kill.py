"""A robot killed mid-batch leaves its finished items DONE and the rest claimable again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kuntaflow.batches import process_batch
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState

FIXTURES = Path(__file__).parent / "robot_fixtures"


def _wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _enqueue(queue, hold_index: int, count: int = 6) -> list[int]:
    return [queue.add("killtest", reference=f"r{i}", payload={"i": i, "hold": i == hold_index}).id for i in range(count)]


@pytest.mark.slow
def test_sigkill_mid_batch_keeps_finished_items_done_and_releases_the_rest(queue_url, tmp_path, monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_DATABASE_URL", queue_url)
    settings = KuntaflowSettings(data_dir=tmp_path / "data")
    with settings.work_queue() as queue:
        ids = _enqueue(queue, hold_index=3)
        pid_file, gate = tmp_path / "robot.pid", tmp_path / "gate"
        monkeypatch.setenv("ROBOT_OPTIONS", f"--variable PID_FILE:{pid_file} --variable GATE:{gate}")
        reports = []
        worker = threading.Thread(
            target=lambda: reports.append(process_batch("killtest", batch_size=10, suite=FIXTURES / "kill_mid_batch.robot", settings=settings))
        )
        worker.start()
        # Killed while it holds the fourth item: three are DONE and the robot has started the fourth.
        _wait_for(
            lambda: queue.counts().get("killtest", {}).get("DONE") == 3 and pid_file.exists() and any(entry.action == "start" for entry in queue.audit(ids[3])),
            "three items DONE and the fourth started",
        )
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        worker.join(60)

        [report] = reports
        assert report.robot_return_code == -signal.SIGKILL
        assert report.released == 3
        states = {item_id: queue.get(item_id).state for item_id in ids}
        assert [states[i] for i in ids] == [ItemState.DONE] * 3 + [ItemState.NEW] * 3
        assert all("handled" in queue.checkpoints(i) for i in ids[:3])
        again = queue.claim("killtest", owner="next-robot", limit=10)
        assert [item.id for item in again] == ids[3:]
        # The item the robot was working on used its attempt; the two it never reached did not.
        assert [item.attempts for item in again] == [2, 1, 1]


# A runner in a process of its own, as a Prefect flow run is: process_batch on the killtest queue.
RUNNER = """
import sys
from pathlib import Path
from kuntaflow.batches import process_batch
process_batch("killtest", batch_size=10, suite=Path(sys.argv[1]))
"""


def _dead(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"  # exited, not yet reaped by init
    except FileNotFoundError:
        return True


@pytest.mark.slow
def test_when_the_runner_is_killed_its_robot_dies_too_and_the_items_come_back_when_their_lease_runs_out(queue_url, tmp_path):
    settings = KuntaflowSettings(data_dir=tmp_path / "data", database_url=queue_url, lease_seconds=2)
    with settings.work_queue() as queue:
        ids = _enqueue(queue, hold_index=1, count=3)
        pid_file, gate = tmp_path / "robot.pid", tmp_path / "gate"
        env = {
            **os.environ,
            "KUNTAFLOW_DATA_DIR": str(settings.resolved_data_dir),
            "KUNTAFLOW_DATABASE_URL": queue_url,
            "KUNTAFLOW_LEASE_SECONDS": "2",
            "ROBOT_OPTIONS": f"--variable PID_FILE:{pid_file} --variable GATE:{gate}",
        }
        runner = subprocess.Popen([sys.executable, "-c", RUNNER, str(FIXTURES / "kill_mid_batch.robot")], env=env)
        try:
            # Killed while it holds the second item: the first is DONE and the robot has started the second.
            _wait_for(
                lambda: queue.get(ids[0]).state is ItemState.DONE and pid_file.exists() and any(entry.action == "start" for entry in queue.audit(ids[1])),
                "the first item DONE and the second started",
            )
            robot = int(pid_file.read_text())
            runner.kill()
            runner.wait()
            _wait_for(lambda: _dead(robot), "the robot to die with its runner")
            # Nobody released anything: the runner died with its robot. The leases must run out.
            assert [queue.get(i).state for i in ids] == [ItemState.DONE, ItemState.IN_PROGRESS, ItemState.IN_PROGRESS]
            reclaimed: list = []
            _wait_for(
                lambda: reclaimed.extend(queue.claim("killtest", owner="rescuer", limit=10)) or len(reclaimed) == 2,
                "the lost items to be claimable again",
                timeout=30,
            )
            # The held item had been started (attempt counted); the last one never was (attempt given back).
            assert sorted((item.id, item.attempts) for item in reclaimed) == [(ids[1], 2), (ids[2], 1)]
            assert queue.get(ids[0]).state is ItemState.DONE
        finally:
            if runner.poll() is None:
                runner.kill()
                runner.wait()
            gate.touch()
