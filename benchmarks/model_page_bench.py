"""What the model page's two mechanisms cost: the threshold lookup on every ticket, and where a retrain spends its time.

    DJANGO_DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/SCRATCH FEEDBACK_MODEL_DIR=/tmp/models \\
        .venv/bin/python benchmarks/model_page_bench.py [--train]

On a migrated scratch database (it sets and clears one category's threshold override). Prints the
cost of ``feedback.classification.category_threshold`` per call with the per-process cache warm and
on a miss (one query), and with --train one real ``training_run_execute`` (seed corpus, the
database's confirmed labels and up to 20,000 unlabelled tickets) timed per phase of
``train_version``: the slices of the model page's progress bar (feedback.services._RunProgress).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from feedback.classification import category_threshold, threshold_cache_clear  # noqa: E402
from feedback.models import Category  # noqa: E402
from feedback.services import category_threshold_set, training_run_execute, training_run_start  # noqa: E402

CALLS = 200_000
MISSES = 200


def threshold_lookup() -> None:
    damaged = Category.objects.get(code="damaged")
    category_threshold_set(category=damaged, threshold=0.72, user=None)
    try:
        codes = list(Category.objects.values_list("code", flat=True))
        category_threshold("damaged")
        start = time.perf_counter()
        for i in range(CALLS):
            category_threshold(codes[i % len(codes)])
        cached = (time.perf_counter() - start) / CALLS
        misses = []
        for _ in range(MISSES):
            threshold_cache_clear()
            start = time.perf_counter()
            category_threshold("damaged")
            misses.append(time.perf_counter() - start)
        misses.sort()
        print(f"category_threshold cached: {cached * 1e6:.2f} us/call over {CALLS} calls; on a miss (one query): "
              f"p50 {misses[MISSES // 2] * 1e3:.2f} ms, p99 {misses[int(MISSES * 0.99)] * 1e3:.2f} ms")
    finally:
        category_threshold_set(category=damaged, threshold=None, user=None)


def training_phases() -> None:
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def progress(done: int, total: int, stage: str) -> None:
        marks.setdefault(stage.split(":", 1)[0], time.perf_counter() - started)

    run, created = training_run_start(user=None, enqueue=False)
    if not created:
        sys.exit(f"training run {run.pk} is in progress")
    training_run_execute(run_id=run.pk, progress=progress)
    total = time.perf_counter() - started
    run.refresh_from_db()
    print(f"training {total:.1f} s; run {run.pk}: {run.status} {run.percent} % activated={run.activated}")
    phases = [("collecting labels", 0.0), *marks.items(), ("end", total)]
    for (name, at), (_, following) in zip(phases, phases[1:]):
        print(f"  {name:<22} starts {at:6.1f} s  lasts {following - at:6.1f} s  ({(following - at) / total * 100:4.1f} %)")


if __name__ == "__main__":
    threshold_lookup()
    if "--train" in sys.argv:
        training_phases()
