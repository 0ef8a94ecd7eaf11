"""python manage.py import_orders FILE: daily orders and returns per SKU from a CSV or XLSX file."""
from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from feedback.imports.columns import column_mapping_parse
from feedback.imports.readers import ImportFileError

from ...services import SalesResult, impacts_remeasure, metrics_recompute, return_spikes_detect, sales_import_file
from ...services.sales import SALES


class Command(BaseCommand):
    help = (
        "Import daily orders and returns per SKU (columns 日期/date, 商家编码/SKU/sku, 订单数/orders, 退货数/returns, "
        "optional 退货原因/return_reason, or any header with --map; CSV in UTF-8, UTF-8 BOM, GB18030, Big5, or XLSX). "
        "A (day, SKU) already stored "
        "is replaced, not added to, so importing a file again changes nothing. Metrics for the imported days are "
        "recomputed in-process afterwards (--no-refresh leaves it to Celery's nightly run)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--source", default="", help="label stored with the rows (default: import:<file name>)")
        parser.add_argument("--no-refresh", action="store_true", help="do not recompute metrics and impacts now")
        parser.add_argument("--show-errors", type=int, default=20, help="row errors and row warnings to print (default 20)")
        parser.add_argument(
            "--map", action="append", default=[], metavar="COLUMN=FIELD", dest="mappings",
            help=f"map a column to a field ({', '.join(SALES.fields)}, ignore); repeatable",
        )
        parser.add_argument("--sheet", default=None, metavar="NAME", help="workbook sheet to import")

    def handle(self, *args, file: str, source: str, no_refresh: bool, show_errors: int, **options) -> None:
        try:
            mapping = column_mapping_parse("\n".join(options["mappings"]), schema=SALES)
        except ValueError as exc:
            raise CommandError(f"--map: {exc}") from None
        bar = tqdm(desc="Import", unit="row", file=sys.stderr, mininterval=0.5)

        def progress(result: SalesResult) -> None:
            if result.expected_total and bar.total != result.expected_total:
                bar.total = result.expected_total
            bar.update(result.total - bar.n)

        try:
            result = sales_import_file(
                path=file, source=source, progress=progress, refresh=False,
                column_mapping=mapping or None, sheet=options["sheet"],
            )
        except ImportFileError as exc:
            bar.close()
            raise CommandError(str(exc)) from None
        bar.close()
        self.stdout.write(
            f"{result.total} rows ({result.format}{', ' + result.encoding if result.encoding else ''}): "
            f"{result.created} new, {result.updated} replaced, {result.failed} failed, {len(result.warnings)} warnings."
        )
        for entry in result.errors[:show_errors]:
            self.stdout.write(f"  row {entry['row']}: [{entry['column']}] {entry['message']}")
        if len(result.errors) > show_errors:
            self.stdout.write(f"  … {len(result.errors) - show_errors} more errors")
        for entry in [w for w in result.warnings if not w["row"]]:
            self.stdout.write(f"  warning, file: {entry['message']}")
        for entry in [w for w in result.warnings if w["row"]][:show_errors]:
            self.stdout.write(f"  warning, row {entry['row']}: [{entry['column']}] {entry['message']}")
        if result.first_day and not no_refresh:
            metrics = metrics_recompute(start=result.first_day, end=result.last_day, product_ids=result.product_ids)
            remeasured = impacts_remeasure(start=result.first_day, end=result.last_day)
            spikes = return_spikes_detect(product_ids=result.product_ids)
            self.stdout.write(
                f"Metrics recomputed for {result.first_day} .. {result.last_day} ({metrics.total_rows} rows); "
                f"{len(remeasured)} impacts re-measured; {len(spikes)} return spikes flagged."
            )
        if result.failed:
            self.stdout.write(self.style.WARNING("Some rows failed; fix them and import the file again (re-import is safe)."))
        else:
            self.stdout.write(self.style.SUCCESS("Done."))
