"""The clock the suite travels with (tests/clock.py): the test process and its workers read the same time."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.clock import NOW_VARIABLE, STARTED_VARIABLE, travel_from_environment

ROOT = Path(__file__).resolve().parents[1]
WORKER_CLOCK = "from tests.clock import travel_like_the_test_process as t; t(); import time; print(repr(time.time()))"


def test_a_worker_started_later_reads_the_same_clock_as_the_test_process(monkeypatch):
    monkeypatch.setenv(NOW_VARIABLE, "2030-01-01T00:00:00+08:00")
    monkeypatch.delenv(STARTED_VARIABLE, raising=False)
    with travel_from_environment() as destination:
        # Nothing reads the clock here for a while, as when the test database is being set up.
        time.sleep(0.4)
        before = time.time()
        worker = subprocess.run([sys.executable, "-c", WORKER_CLOCK], cwd=ROOT, env=dict(os.environ),
                                capture_output=True, text=True, check=True, timeout=60)
        after = time.time()

    worker_now = float(worker.stdout)
    assert before - destination.timestamp() >= 0.4  # the test clock ticked from the start
    assert before - 0.05 <= worker_now <= after + 0.05, (before, worker_now, after)
