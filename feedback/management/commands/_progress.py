"""A tqdm bar that speaks the classifier's progress(done, total, stage) protocol."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

from feedback.classifiers.model import Progress


@contextmanager
def progress_bar(description: str, *, disable: bool = False) -> Iterator[Progress]:
    """Yield a progress callback drawing one bar on stderr; each new stage restarts it."""
    bar = tqdm(total=1, desc=description, unit="", file=sys.stderr, disable=disable, dynamic_ncols=True, leave=False)
    stage_seen: list[str] = [""]

    def update(done: int, total: int, stage: str) -> None:
        if stage != stage_seen[0] or total != bar.total:
            stage_seen[0] = stage
            bar.reset(total=max(total, 1))
            bar.set_description(f"{description}: {stage}")
        bar.n = min(done, bar.total)
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()
