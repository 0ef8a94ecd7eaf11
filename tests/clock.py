"""Run the whole suite as if today were another day, in this process and in the workers it starts.

``TEST_NOW=2026-11-11T09:30:00+08:00 bin/test`` moves every clock of the test
process (``time.time``, ``datetime.now``, Django's ``timezone.now``) to that moment
at the start of the session; the clock then ticks on normally. Worker processes
started by the integration tests call :func:`travel_like_the_test_process`, so
they read the same shifted clock. CI runs the suite today and on fixed dates
(``.ci/run``), so no test can pass only on the day it was written.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

NOW_VARIABLE = "TEST_NOW"
# The real epoch seconds at which the test process travelled, so workers can follow.
STARTED_VARIABLE = "TEST_NOW_STARTED_AT"


def _destination() -> datetime | None:
    value = os.environ.get(NOW_VARIABLE, "").strip()
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{NOW_VARIABLE}={value!r} needs a UTC offset, e.g. 2026-11-11T09:30:00+08:00")
    return moment


@contextmanager
def travel_from_environment() -> Iterator[datetime | None]:
    """Travel to $TEST_NOW (ticking) for the duration, and record when, for worker processes."""
    destination = _destination()
    if destination is None:
        yield None
        return
    import time_machine

    os.environ[STARTED_VARIABLE] = repr(_real_time())
    with time_machine.travel(destination, tick=True):
        _start_ticking()
        yield destination


def travel_like_the_test_process() -> None:
    """In a worker process: shift the clock exactly as the test process that started it did."""
    destination = _destination()
    started = os.environ.get(STARTED_VARIABLE)
    if destination is None or not started:
        return
    import time_machine

    elapsed = timedelta(seconds=_real_time() - float(started))
    time_machine.travel(destination + elapsed, tick=True).start()
    _start_ticking()


def _real_time() -> float:
    """The machine's clock, even inside another travel (a test of this module travels within the suite's)."""
    import time_machine

    return time_machine.escape_hatch.time.time() if time_machine.escape_hatch.is_travelling() else time.time()


def _start_ticking() -> None:
    """Read the clock once, now: time-machine's ticking clock stands still at the destination until
    its first reading and only then starts to tick. Left to the first caller, the test process's
    clock started whenever something first asked the time (after the test database was set up,
    seconds later), so every worker, which starts ticking at once, ran that much ahead: a task
    published with a countdown of 0.5 s ran on arrival, before tickets the test had just filed."""
    time.time()
