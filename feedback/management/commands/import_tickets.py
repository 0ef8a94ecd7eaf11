"""``python manage.py import_tickets FILE``: import a CSV/XLSX export from the terminal.

Exit status 0 when the file was read, even if some rows failed (they are listed);
non-zero when the file cannot be read at all.
"""
from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from feedback.imports.columns import column_mapping_parse
from feedback.imports.service import DEFAULT_SOURCE, ImportFileError, ImportResult, import_file


class Command(BaseCommand):
    help = "Import tickets from a CSV or XLSX export (UTF-8, UTF-8 BOM or GB18030/GBK; Chinese or English headers)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV or XLSX file")
        parser.add_argument(
            "--source", default=DEFAULT_SOURCE,
            help=f"external source the ids belong to, e.g. taobao (default: {DEFAULT_SOURCE}); "
                 "the same id from the same source is imported once",
        )
        parser.add_argument(
            "--map", action="append", default=[], metavar="COLUMN=FIELD", dest="mappings",
            help="map a column to a field (text, external_id, sku, order_number, channel, received_at, ignore); repeatable",
        )
        parser.add_argument("--no-triage", action="store_true", help="do not send the new tickets to the classifier")
        parser.add_argument("--show-errors", type=int, default=20, metavar="N", help="row errors to print (default 20)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (e.g. in cron logs)")

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"文件不存在 (file not found): {path}")
        try:
            mapping = column_mapping_parse("\n".join(options["mappings"]))
        except ValueError as exc:
            raise CommandError(f"--map: {exc}") from None

        bar: tqdm | None = None

        def progress(result: ImportResult) -> None:
            nonlocal bar
            if options["no_progress"]:
                return
            if bar is None:
                bar = tqdm(total=result.expected_total, unit="行", desc=path.name, file=sys.stderr, dynamic_ncols=True)
            if result.expected_total and result.expected_total != bar.total:
                bar.total = result.expected_total
            bar.update(result.total - bar.n)
            bar.set_postfix(imported=result.imported, duplicates=result.duplicates, failed=result.failed, refresh=False)

        try:
            result = import_file(
                path=path,
                source=options["source"],
                column_mapping=mapping or None,
                progress=progress,
                enqueue=not options["no_triage"],
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        finally:
            if bar is not None:
                bar.close()
        self._summary(result, options["show_errors"])

    def _summary(self, result: ImportResult, show_errors: int) -> None:
        out = self.stdout
        encoding = f", {result.encoding}" if result.encoding else ""
        out.write(f"读取 read: {result.total} 行 rows ({result.format}{encoding})")
        out.write(self.style.SUCCESS(f"已导入 imported: {result.imported}"))
        out.write(f"重复跳过 skipped as duplicate: {result.duplicates}")
        failed = f"失败 failed: {result.failed}"
        out.write(self.style.ERROR(failed) if result.failed else failed)
        for warning in result.warnings:
            if warning["row"] is None:
                out.write(self.style.WARNING(f"提示 warning: {warning['message']}"))
        row_warnings = len([w for w in result.warnings if w["row"] is not None]) + result.warnings_omitted
        if row_warnings:
            out.write(self.style.WARNING(f"行提示 row warnings (unknown SKU, duplicates in the file ...): {row_warnings}"))
        if result.errors and show_errors > 0:
            total_errors = len(result.errors) + result.errors_omitted
            shown = result.errors[:show_errors]
            out.write(f"行错误 row errors (first {len(shown)} of {total_errors}):")
            for error in shown:
                value = f" [{error['value']}]" if error.get("value") else ""
                out.write(f"  第 {error['row']} 行 row {error['row']} · {error['column']}: {error['message']}{value}")
