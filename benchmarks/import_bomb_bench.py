"""How fast, and in how much memory, an upload check refuses an XLSX zip bomb.

    .venv/bin/python benchmarks/import_bomb_bench.py [--mib 2000]

Writes (streamed, never in memory) a valid workbook whose sheet XML is padded
with MIB mebibytes of spaces, then runs ``import_preflight`` on it, as the
upload form does in the web process, and prints the time to refusal and this
process's peak resident memory before and after.
"""
from __future__ import annotations

import argparse
import io
import os
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bomb_write(path: Path, mib: int) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["内容"])
    workbook.active.append(["漏发"])
    plain = io.BytesIO()
    workbook.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info.filename, data)
                continue
            head, tail = data.split(b"<sheetData>")
            with target.open(info.filename, "w") as out:
                out.write(head + b"<sheetData>")
                chunk = b" " * (1 << 20)
                for _ in range(mib):
                    out.write(chunk)
                out.write(tail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=2000, help="MiB of spaces inside the sheet")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from feedback.imports.readers import ImportFileError
    from feedback.imports.service import import_preflight

    with tempfile.TemporaryDirectory(prefix="bomb-bench-") as workdir:
        path = Path(workdir) / "bomb.xlsx"
        bomb_write(path, args.mib)
        print(f"bomb: {path.stat().st_size / 1e6:.2f} MB on disk, {args.mib:,} MiB of spaces inside")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        try:
            import_preflight(path=path)
            print("NOT refused")
        except ImportFileError as exc:
            print(f"refused in {time.perf_counter() - started:.2f}s: {str(exc)[:90]}…")
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS: {before:.0f} MB before the check, {after:.0f} MB after")


if __name__ == "__main__":
    main()
