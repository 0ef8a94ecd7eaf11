"""python manage.py train_classifier [--data FILE.jsonl] [--force]: train, gate, activate, print metrics.

The promotion gate applies here too: the new version becomes active only if its
macro-F1 on the held-out split is not lower than the active model's on the same
examples (or when there is no usable active model). --force activates it anyway.
The decision is printed either way. --rollback re-activates the previous version.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from feedback.classification import model_rollback, model_versions
from feedback.classifiers import LabelledDataError, UnknownVersionError, format_confusion, format_metrics, read_labelled_jsonl
from feedback.models import Category
from feedback.services import training_run_execute, training_run_start

from ._progress import progress_bar


class Command(BaseCommand):
    help = "Train a model version on the seed corpus, confirmed labels and an optional labelled file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--data", help="JSON-lines file of {text, category, product?} to train on as well")
        parser.add_argument("--force", action="store_true", help="activate the new version even if it fails the gate")
        parser.add_argument("--rollback", nargs="?", const="", metavar="VERSION", help="re-activate the previous (or the named) version and exit")
        parser.add_argument("--list", action="store_true", help="list stored versions and exit")
        parser.add_argument("--no-progress", action="store_true", help="do not draw a progress bar")

    def handle(self, *args, **options) -> None:
        if options["list"]:
            for meta in model_versions():
                metrics = meta.get("metrics", {})
                self.stdout.write(
                    f"{'*' if meta.get('active') else ' '} {meta['version']}  {meta.get('created', '')}  "
                    f"size {meta.get('training_size')}  macro-F1 {metrics.get('macro_f1')}  accuracy {metrics.get('accuracy')}"
                )
            return
        if options["rollback"] is not None:
            try:
                active = model_rollback(version=options["rollback"] or None)
            except UnknownVersionError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"active model: {active}")
            return
        extra = []
        if options["data"]:
            try:
                extra = read_labelled_jsonl(options["data"], categories=list(Category.objects.values_list("code", flat=True)))
            except LabelledDataError as error:
                raise CommandError(str(error)) from None
            except OSError as error:
                raise CommandError(f"cannot read {options['data']}: {error}") from None
        # Recorded as a training run like the model page's button: the page shows its progress,
        # and the two cannot train at the same time.
        run, created = training_run_start(user=None, enqueue=False)
        if not created:
            raise CommandError(f"training run {run.pk} is in progress ({run.stage}, {run.percent} %): wait for it to finish")
        self.stderr.write(f"training run {run.pk}: progress also on the model page (/models/)")
        with progress_bar("train", disable=options["no_progress"]) as progress:
            result = training_run_execute(run_id=run.pk, progress=progress, extra=extra, force=options["force"])
        if result is None:
            raise CommandError(f"training run {run.pk} was taken by another process")
        meta = result.metadata
        names = dict(Category.objects.values_list("code", "name_zh"))
        self.stdout.write(
            f"version {result.version}: {meta['training_size']} examples "
            f"({meta['seed_count']} seed, {meta['labelled_count']} labelled, {meta['unlabelled_count']} unlabelled), "
            f"{meta['training_seconds']} s"
        )
        self.stdout.write(f"held-out split ({meta['heldout_size']} examples):")
        self.stdout.write(format_metrics(result.metrics, names))
        self.stdout.write("confusion matrix (rows true, columns predicted):")
        self.stdout.write(format_confusion(result.metrics))
        status = "ACTIVATED" if result.activated else "NOT ACTIVATED"
        self.stdout.write(f"{status}: {result.reason}")
