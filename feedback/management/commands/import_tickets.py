"""``python manage.py import_tickets FILE``: import a CSV/XLSX export from the terminal.

Exit status 0 when the file was read, even if some rows failed (they are listed);
non-zero when the file cannot be read at all.
"""
from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from feedback.imports.columns import column_mapping_parse, presets_load
from feedback.imports.service import DEFAULT_SOURCE, ImportFileError, ImportResult, import_file


class Command(BaseCommand):
    help = (
        "Import tickets from a CSV or XLSX export (UTF-8, UTF-8 BOM, GB18030/GBK, Big5, Shift-JIS; Chinese or English "
        "headers). Platform exports (taobao, jd, pdd, douyin, kuaishou) are recognised from their headers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV or XLSX file")
        parser.add_argument(
            "--source", default="",
            help=f"platform preset and id namespace: {'|'.join(sorted(presets_load()))}, or any other name "
                 f"(default: detected from the headers, else {DEFAULT_SOURCE}); the same id from the same source "
                 "is imported once",
        )
        parser.add_argument("--sheet", default=None, metavar="NAME",
                            help="workbook sheet to import (default: the sheet whose header looks like tickets)")
        parser.add_argument(
            "--map", action="append", default=[], metavar="COLUMN=FIELD", dest="mappings",
            help="map a column to a field (text, external_id, sku, order_number, channel, received_at, ignore); repeatable",
        )
        parser.add_argument("--no-triage", action="store_true", help="do not send the new tickets to the classifier")
        parser.add_argument("--show-errors", type=int, default=20, metavar="N",
                            help="row errors and row warnings to print (default 20 of each)")
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
                sheet=options["sheet"],
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
        sheet = f", 工作表 sheet「{result.sheet}」" if result.sheet else ""
        out.write(f"读取 read: {result.total} 行 rows ({result.format}{encoding}{sheet})")
        if result.preset:
            how = "自动识别 detected" if result.preset_detected else "指定 chosen"
            out.write(f"平台格式 platform preset: {result.preset} ({how}); 来源 source: {result.source}")
        else:
            out.write(f"平台格式 platform preset: 无 none (generic headers); 来源 source: {result.source}")
        out.write(self.style.SUCCESS(f"已导入 imported: {result.imported}"))
        out.write(f"重复跳过 skipped as duplicate: {result.duplicates}")
        failed = f"失败 failed: {result.failed}"
        out.write(self.style.ERROR(failed) if result.failed else failed)
        if result.summary_rows:
            out.write(f"合计行跳过 total rows skipped: {result.summary_rows}")
        for warning in result.warnings:
            if warning["row"] is None:
                out.write(self.style.WARNING(f"提示 warning: {warning['message']}"))
        row_warnings = [w for w in result.warnings if w["row"] is not None]
        total_row_warnings = len(row_warnings) + result.warnings_omitted
        if row_warnings and show_errors > 0:
            shown = row_warnings[:show_errors]
            out.write(self.style.WARNING(f"行提示 row warnings (first {len(shown)} of {total_row_warnings}):"))
            for warning in shown:
                out.write(self._line(warning))
        if result.errors and show_errors > 0:
            total_errors = len(result.errors) + result.errors_omitted
            shown = result.errors[:show_errors]
            out.write(f"行错误 row errors (first {len(shown)} of {total_errors}):")
            for error in shown:
                out.write(self._line(error))

    @staticmethod
    def _line(entry: dict) -> str:
        value = f" [{entry['value']}]" if entry.get("value") else ""
        return f"  第 {entry['row']} 行 row {entry['row']} · {entry['column']}: {entry['message']}{value}"
