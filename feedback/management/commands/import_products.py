"""``python manage.py import_products FILE``: create or update products from a catalogue export, by SKU."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from feedback.imports.columns import column_mapping_parse
from feedback.imports.products import PRODUCTS, ProductResult, products_import_file
from feedback.imports.readers import ImportFileError


class Command(BaseCommand):
    help = (
        "Create or update products from a CSV or XLSX catalogue (商家编码/SKU, 商品名称, optional 类目/品类 and 价格), "
        "keyed by SKU: importing the same file twice changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV or XLSX file")
        parser.add_argument(
            "--map", action="append", default=[], metavar="COLUMN=FIELD", dest="mappings",
            help=f"map a column to a field ({', '.join(PRODUCTS.fields)}, ignore); repeatable",
        )
        parser.add_argument("--sheet", default=None, metavar="NAME", help="workbook sheet to import")
        parser.add_argument("--show-errors", type=int, default=20, metavar="N",
                            help="row errors and row warnings to print (default 20 of each)")

    def handle(self, *args, **options) -> None:
        try:
            mapping = column_mapping_parse("\n".join(options["mappings"]), schema=PRODUCTS)
        except ValueError as exc:
            raise CommandError(f"--map: {exc}") from None
        try:
            result = products_import_file(path=options["file"], column_mapping=mapping or None, sheet=options["sheet"])
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        self._summary(result, options["show_errors"])

    def _summary(self, result: ProductResult, limit: int) -> None:
        out = self.stdout
        encoding = f", {result.encoding}" if result.encoding else ""
        out.write(f"读取 read: {result.total} 行 rows ({result.format}{encoding})")
        out.write(self.style.SUCCESS(f"新建 created: {result.created}  更新 updated: {result.updated}"))
        failed = f"失败 failed: {result.failed}"
        out.write(self.style.ERROR(failed) if result.failed else failed)
        for entry in [w for w in result.warnings if w["row"] is None]:
            out.write(self.style.WARNING(f"提示 warning: {entry['message']}"))
        for title, entries in (("行提示 row warnings", [w for w in result.warnings if w["row"]]), ("行错误 row errors", result.errors)):
            if entries and limit > 0:
                out.write(f"{title} (first {min(limit, len(entries))} of {len(entries)}):")
                for entry in entries[:limit]:
                    value = f" [{entry['value']}]" if entry.get("value") else ""
                    out.write(f"  第 {entry['row']} 行 row {entry['row']} · {entry['column']}: {entry['message']}{value}")
