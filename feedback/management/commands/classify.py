"""python manage.py classify --input IN.jsonl --output OUT.jsonl (a stable contract for evaluation tooling)."""
from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from feedback.classification import get_predictor

BATCH_SIZE = 1000


def read_requests(lines) -> list[dict[str, Any]]:
    """Parse input lines into objects with a string "text"; raise CommandError naming the bad line."""
    rows: list[dict[str, Any]] = []
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise CommandError(f"line {line_number}: not valid JSON ({error.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise CommandError(f'line {line_number}: expected a JSON object with a string "text"')
        product = row.get("product")
        if product is not None and not isinstance(product, str):
            raise CommandError(f'line {line_number}: "product" must be a string')
        rows.append(row)
    return rows


class Command(BaseCommand):
    help = "Classify JSON lines ({text, product?}) with the active model; adds category, confidence and top."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--input", required=True, help="JSON-lines file to read ('-' for stdin)")
        parser.add_argument("--output", required=True, help="JSON-lines file to write ('-' for stdout)")

    def handle(self, *args, **options) -> None:
        with ExitStack() as stack:
            try:
                source = sys.stdin if options["input"] == "-" else stack.enter_context(open(options["input"], encoding="utf-8-sig"))
                rows = read_requests(source)
            except OSError as error:
                raise CommandError(f"cannot read {options['input']}: {error}") from None
            except UnicodeDecodeError as error:
                raise CommandError(f"{options['input']} is not UTF-8 text ({error.reason})") from None
            model = get_predictor()
            version = model.version
            try:
                target = sys.stdout if options["output"] == "-" else stack.enter_context(open(options["output"], "w", encoding="utf-8"))
            except OSError as error:
                raise CommandError(f"cannot write {options['output']}: {error}") from None
            with tqdm(total=len(rows), desc="classify", unit="text", file=sys.stderr, leave=False) as bar:
                for start in range(0, len(rows), BATCH_SIZE):
                    batch = rows[start : start + BATCH_SIZE]
                    predictions = model.predict(
                        [r["text"] for r in batch], [r.get("product") for r in batch], explain=False
                    )
                    for row, prediction in zip(batch, predictions):
                        result = dict(row)
                        result["category"] = prediction.label
                        result["confidence"] = prediction.confidence
                        result["top"] = [[code, probability] for code, probability in prediction.top]
                        target.write(json.dumps(result, ensure_ascii=False) + "\n")
                    bar.update(len(batch))
        self.stderr.write(f"classified {len(rows)} texts with model {version}")
