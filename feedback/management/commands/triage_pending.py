"""python manage.py triage_pending: classify, group and route every untriaged ticket, in-process.

For backfills, and for operators while the workers are down: needs no broker.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand
from tqdm import tqdm

from feedback.models import Ticket, TriageStatus
from feedback.classification import tickets_triage


class Command(BaseCommand):
    help = "Classify, group and route every ticket not yet triaged (in-process, with a progress bar)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--limit", type=int, default=None, help="Stop after this many tickets.")
        parser.add_argument(
            "--regroup", action="store_true",
            help="Also (re)attach every categorised ticket to its issue (repairs grouping after a scope-rule change).",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, batch_size: int, limit: int | None, regroup: bool, no_progress: bool, **options):
        pending = Ticket.objects.filter(triage_status=TriageStatus.PENDING)
        if regroup:
            pending = Ticket.objects.filter(category__isnull=False) | pending
        total = pending.count() if limit is None else min(limit, pending.count())
        done = attached = created = 0
        last_id = 0
        with tqdm(total=total, unit="ticket", disable=no_progress or total == 0) as bar:
            while done < total:
                # Keyset pagination: each batch leaves "pending", so the cursor also guards against loops.
                ids = list(
                    pending.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[: min(batch_size, total - done)]
                )
                if not ids:
                    break
                last_id = ids[-1]
                result = tickets_triage(ticket_ids=ids, route_inline=True)
                done += len(ids)
                attached += result.attached
                created += result.created_issues
                bar.update(len(ids))
        self.stdout.write(
            self.style.SUCCESS(f"triaged {done} tickets: {attached} attached to issues, {created} new issues")
        )
