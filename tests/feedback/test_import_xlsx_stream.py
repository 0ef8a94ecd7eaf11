"""A 100,000-row XLSX is read as a stream, never loaded whole into memory."""
from __future__ import annotations

import time
import tracemalloc

import pytest

from openpyxl import Workbook, load_workbook

from feedback.imports import service
from feedback.imports.service import import_file

ROWS = 100_000
REFERENCE_ROWS = 10_000


def _write(path, rows: int) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("评价导出")
    sheet.append(["内容"])
    for i in range(rows):
        sheet.append([f"坏了{i}"])
    workbook.save(path)


def _peak(function) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_100k_row_xlsx_imports_with_bounded_memory(db, tmp_path, monkeypatch):
    big, small = tmp_path / "big.xlsx", tmp_path / "small.xlsx"
    _write(big, ROWS)
    _write(small, REFERENCE_ROWS)
    # What loading the whole workbook would cost: a tenth of it loaded the ordinary way, times ten.
    _, reference_peak = _peak(lambda: load_workbook(small))
    whole_workbook = reference_peak * ROWS // REFERENCE_ROWS
    # Every step of the import runs (read, map, parse, validate, deduplicate, batch) except the SQL
    # INSERT: that is what tracemalloc would slow down the most, and its memory is one batch by construction.
    saved: list[int] = []

    def bulk_create_counted(*, items, filed_by=None, enqueue=True):
        saved.append(len(items))
        return [None] * len(items), []

    monkeypatch.setattr(service, "tickets_bulk_create", bulk_create_counted)

    started = time.perf_counter()
    result, peak = _peak(lambda: import_file(path=big, source="stream", enqueue=False))
    elapsed = time.perf_counter() - started

    print(f"\nstreamed peak {peak / 1e6:.1f} MB; whole workbook ~{whole_workbook / 1e6:.0f} MB; {elapsed:.1f}s")
    assert (result.total, result.imported, result.failed) == (ROWS, ROWS, 0)
    assert max(saved) <= service.BATCH_SIZE and sum(saved) == ROWS
    assert peak < whole_workbook / 3
    assert peak < 32 * 1024 * 1024
