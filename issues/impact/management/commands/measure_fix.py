"""python manage.py measure_fix: the effect of any change (a fix, a price change, a new supplier) on a SKU."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...conf import impact_setting
from ...measurement import MeasureInputError, change_row


def _date(value, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise MeasureInputError(f"{where}action_date: {value!r} is not a date YYYY-MM-DD") from None


def _window(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MeasureInputError(f"{where}window_days: {value!r} is not a whole number of days")
    try:
        return int(value)
    except ValueError:
        raise MeasureInputError(f"{where}window_days: {value!r} is not a whole number of days") from None


class Command(BaseCommand):
    help = (
        "Measure the effect of a change on a SKU's (or a product category's) return and complaint rates: "
        "the change net of comparable untouched products (the controls), its 95% interval, p-value, "
        "significance and, when nothing is found, the smallest change the volumes could show. "
        "--input FILE.jsonl measures one {\"sku\", \"action_date\"} per line (extra keys ignored; "
        "\"window_days\" and \"category\" are read if present). JSON output is a list in input order; a line "
        "that cannot be measured gets an \"error\" naming the line and field, and the command exits with status 1."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sku")
        parser.add_argument("--category", help="a product category instead of a SKU")
        parser.add_argument("--action-date", help="YYYY-MM-DD: the day of the change (in neither window)")
        parser.add_argument("--input", help="a JSON-lines file of changes to measure")
        parser.add_argument("--window-days", type=int, help="days before and after (default IMPACT_WINDOW_DAYS)")
        parser.add_argument("--format", choices=["json", "table"], default="json")
        parser.add_argument("--language", choices=["zh-hans", "en"], default="zh-hans")

    def handle(self, *args, sku, category, action_date, input, window_days, format, language, **options) -> None:
        default_window = window_days or impact_setting("IMPACT_WINDOW_DAYS")
        if input:
            if sku or category or action_date:
                raise CommandError("give either --input or --sku/--category with --action-date, not both")
            requests = self._read(Path(input), default_window)
        else:
            if not (sku or category) or not action_date:
                raise CommandError("give --sku SKU (or --category) and --action-date YYYY-MM-DD, or --input FILE.jsonl")
            try:
                requests = [(None, {"sku": sku, "category": category, "action_date": _date(action_date, "--"),
                                    "window_days": default_window}, None)]
            except MeasureInputError as error:
                raise CommandError(str(error)) from None
        rows, errors = [], []
        for line, request, error in requests:
            where = f"line {line}: " if line is not None else ""
            if error is None:
                try:
                    rows.append(change_row(language=language, **request))
                    continue
                except MeasureInputError as problem:
                    error = f"{where}{problem}"
            errors.append(error)
            raw_date = request.get("raw_date", request.get("action_date"))
            rows.append({"line": line, "sku": request.get("sku"), "error": error,
                         "action_date": raw_date.isoformat() if isinstance(raw_date, date) else raw_date})
        if format == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            self._table(rows)
        if errors:
            for error in errors:
                self.stderr.write(error)
            raise CommandError(f"{len(errors)} of {len(rows)} changes could not be measured (see above)")

    def _read(self, path: Path, default_window: int) -> list[tuple[int, dict, str | None]]:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"--input: no such file {path}") from None
        except UnicodeDecodeError:
            raise CommandError(f"--input: {path} is not UTF-8 text") from None
        requests = []
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            where = f"line {number}: "
            try:
                item = json.loads(raw)
            except json.JSONDecodeError as error:
                requests.append((number, {}, f"{where}not valid JSON ({error.msg})"))
                continue
            if not isinstance(item, dict):
                requests.append((number, {}, f"{where}expected an object with \"sku\" and \"action_date\""))
                continue
            request = {"raw_date": item.get("action_date"), "sku": item.get("sku")}
            try:
                sku, category = item.get("sku"), item.get("category")
                if not sku and not category:
                    raise MeasureInputError(f"{where}sku: missing")
                if "action_date" not in item:
                    raise MeasureInputError(f"{where}action_date: missing")
                measured = {"sku": str(sku) if sku else None, "category": str(category) if category and not sku else None,
                            "action_date": _date(item["action_date"], where),
                            "window_days": _window(item.get("window_days", default_window), where)}
            except MeasureInputError as error:
                requests.append((number, request, str(error)))
                continue
            requests.append((number, measured, None))
        if not requests:
            raise CommandError(f"--input: {path} has no changes to measure")
        return requests

    def _table(self, rows) -> None:
        def percent(value):
            return "—" if value is None else f"{value * 100:+.1f}%"

        header = f"{'sku':<14} {'action date':<11} {'win':>3}  {'returns net':>11} {'95% interval':<18} " \
                 f"{'p':>7}  {'complaints net':>14}  verdict"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for row in rows:
            if "error" in row:
                self.stdout.write(f"{row.get('sku') or ''!s:<14} {row.get('action_date') or ''!s:<11}      {row['error']}")
                continue
            interval = "—" if not row["return_rate_ci"] else f"[{percent(row['return_rate_ci'][0])}, {percent(row['return_rate_ci'][1])}]"
            p = "—" if row["return_rate_p_value"] is None else f"{row['return_rate_p_value']:.3g}"
            self.stdout.write(
                f"{(row['sku'] or row['category'])[:14]:<14} {row['action_date']:<11} {row['window_days']:>3}  "
                f"{percent(row['return_rate_change']):>11} {interval:<18} {p:>7}  "
                f"{percent(row['complaint_rate_change']):>14}  {row['verdict']}"
            )
