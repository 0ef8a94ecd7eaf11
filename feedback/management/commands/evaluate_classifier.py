"""python manage.py evaluate_classifier --data FILE.jsonl: accuracy, macro-F1 and a per-category table."""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from feedback.classification import get_predictor
from feedback.classifiers import LabelledDataError, evaluate_model, format_confusion, format_metrics, read_labelled_jsonl
from feedback.models import Category


class Command(BaseCommand):
    help = "Evaluate the active model on a labelled JSON-lines file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--data", required=True, help="JSON-lines file of {text, category, product?}")
        parser.add_argument("--json", dest="json_path", help="also write the metrics as JSON to this file")

    def handle(self, *args, **options) -> None:
        try:
            examples = read_labelled_jsonl(options["data"], categories=list(Category.objects.values_list("code", flat=True)))
        except LabelledDataError as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"cannot read {options['data']}: {error}") from None
        if not examples:
            raise CommandError(f"{options['data']} has no examples")
        model = get_predictor()
        version = model.version
        metrics = evaluate_model(model, examples)
        names = dict(Category.objects.values_list("code", "name_zh"))
        self.stdout.write(f"model {version} on {options['data']}")
        self.stdout.write(format_metrics(metrics, names))
        self.stdout.write("confusion matrix (rows true, columns predicted):")
        self.stdout.write(format_confusion(metrics))
        if options["json_path"]:
            with open(options["json_path"], "w", encoding="utf-8") as handle:
                json.dump({"version": version, **metrics}, handle, ensure_ascii=False, indent=2)
