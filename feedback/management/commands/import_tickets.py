"""``python manage.py import_tickets FILE``: import a CSV/XLSX export from the terminal.

Exit status 0 when the file was read, even if some rows failed (they are listed);
non-zero when the file cannot be read at all.
"""
from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext
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
            raise CommandError(gettext("文件不存在：%(path)s") % {"path": path})
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
                bar = tqdm(total=result.expected_total, unit=gettext("行"), desc=path.name, file=sys.stderr, dynamic_ncols=True)
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
        sheet = gettext("，工作表「%(sheet)s」") % {"sheet": result.sheet} if result.sheet else ""
        out.write(gettext("读取：%(total)s 行（%(format)s%(encoding)s%(sheet)s）") % {
            "total": result.total, "format": result.format, "encoding": encoding, "sheet": sheet})
        if result.preset:
            how = gettext("自动识别") if result.preset_detected else gettext("指定")
            out.write(gettext("平台格式：%(preset)s（%(how)s）；来源：%(source)s") % {
                "preset": result.preset, "how": how, "source": result.source})
        else:
            out.write(gettext("平台格式：无（通用表头）；来源：%(source)s") % {"source": result.source})
        out.write(self.style.SUCCESS(gettext("已导入：%(count)s") % {"count": result.imported}))
        out.write(gettext("重复跳过：%(count)s") % {"count": result.duplicates})
        failed = gettext("失败：%(count)s") % {"count": result.failed}
        out.write(self.style.ERROR(failed) if result.failed else failed)
        if result.summary_rows:
            out.write(gettext("合计行跳过：%(count)s") % {"count": result.summary_rows})
        for warning in result.warnings:
            if warning["row"] is None:
                out.write(self.style.WARNING(gettext("提示：%(message)s") % {"message": warning["message"]}))
        row_warnings = [w for w in result.warnings if w["row"] is not None]
        total_row_warnings = len(row_warnings) + result.warnings_omitted
        if row_warnings and show_errors > 0:
            shown = row_warnings[:show_errors]
            out.write(self.style.WARNING(gettext("行提示（%(total)s 条中的前 %(shown)s 条）：") % {
                "shown": len(shown), "total": total_row_warnings}))
            for warning in shown:
                out.write(self._line(warning))
        if result.errors and show_errors > 0:
            total_errors = len(result.errors) + result.errors_omitted
            shown = result.errors[:show_errors]
            out.write(gettext("行错误（%(total)s 条中的前 %(shown)s 条）：") % {"shown": len(shown), "total": total_errors})
            for error in shown:
                out.write(self._line(error))

    @staticmethod
    def _line(entry: dict) -> str:
        value = f" [{entry['value']}]" if entry.get("value") else ""
        return "  " + gettext("第 %(row)s 行 · %(column)s：%(message)s%(value)s") % {
            "row": entry["row"], "column": entry["column"], "message": entry["message"], "value": value}
