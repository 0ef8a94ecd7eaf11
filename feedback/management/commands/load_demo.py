"""python manage.py load_demo: demo accounts, products and 90 days of tickets that tell a story."""
from __future__ import annotations

import argparse
import sys
import time

from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from feedback.demo import story
from feedback.demo.catalog import DEMO_USERS, PRODUCT_CATEGORIES
from feedback.demo.plan import DEFAULT_SEED, ticket_plan
from feedback.demo.services import (
    demo_products_ensure,
    demo_reset,
    demo_tickets,
    demo_tickets_create,
    demo_review_queue_work,
    demo_team_assign,
    demo_tickets_triage,
    demo_users_ensure,
    ticket_counts_by,
)

MAX_TICKETS = 200_000

_logins = "\n".join(
    f"  {u.username:<18} {u.password:<27} {u.role}" + (f" ({u.department})" if u.department else "") for u in DEMO_USERS
)


class _HelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Keep the login table in --help as written."""


class Command(BaseCommand):
    help = f"""Load demo data: one account per role, products in {len(PRODUCT_CATEGORIES)} product categories
and a few thousand realistic complaint tickets over the last 90 days, written by the
project's own phrase banks. The tickets tell a story (feedback/demo/story.py): a
T-shirt size/colour issue that spiked 40 days ago and fell after a size chart, fruit
delivery delays cut by a same-day delivery service, a shampoo leak that sturdier
packaging did not fix, and swollen milk cartons spiking today.

Safe to run again: nothing is duplicated, and existing accounts keep their password.
--reset deletes the demo tickets and products, recreates them and resets the demo
passwords.

Demo logins (username, password, role):
{_logins}
"""

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--tickets", type=int, default=story.DEFAULT_TICKETS,
            help=f"how many tickets to create (default {story.DEFAULT_TICKETS}; the story scales with it)",
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
        parser.add_argument(
            "--reset", action="store_true", help="delete demo tickets and products first, reset demo passwords"
        )
        parser.add_argument("--no-triage", action="store_true", help="leave the new tickets pending (not classified)")
        parser.add_argument("--print-logins", action="store_true", help="only print the demo logins and exit")

    def handle(
        self, *args, tickets: int, seed: int, reset: bool, no_triage: bool, print_logins: bool = False, **options
    ) -> None:
        if print_logins:
            self.stdout.write(f"  {'username':<18} {'password':<27} role\n{_logins}")
            return
        if not 0 <= tickets <= MAX_TICKETS:
            raise CommandError(f"--tickets must be between 0 and {MAX_TICKETS}")
        started = time.perf_counter()
        now = timezone.localtime()

        with transaction.atomic():
            if reset:
                deleted_tickets, deleted_products = demo_reset()
                self.stdout.write(f"Reset: deleted {deleted_tickets} demo tickets and {deleted_products} products.")
            users = demo_users_ensure(reset_passwords=reset)
            products, new_products = demo_products_ensure()
            existing = demo_tickets().count()
            new_ids: list[int] = []
            if existing == 0 and tickets:
                plan_started = time.perf_counter()
                plan = ticket_plan(now=now, total=tickets, seed=seed)
                planned_in = time.perf_counter() - plan_started
                insert_started = time.perf_counter()
                new_ids = demo_tickets_create(plan=plan, products=products)
                inserted_in = time.perf_counter() - insert_started

        created_users = sum(r.created for r in users)
        self.stdout.write(f"Users: {len(users)} demo accounts ({created_users} new).")
        categories = len({p.product_category for p in products.values()})
        self.stdout.write(f"Products: {len(products)} in {categories} product categories ({new_products} new).")
        if new_ids:
            channels = ", ".join(f"{k} {v}" for k, v in ticket_counts_by("channel").most_common())
            first = timezone.localtime(min(p.received_at for p in plan)).date()
            self.stdout.write(
                f"Tickets: {len(new_ids)} created, {first} .. {now.date()} "
                f"(planned in {planned_in:.1f} s, saved in {inserted_in:.1f} s; {channels})."
            )
        elif existing:
            self.stdout.write(f"Tickets: {existing} demo tickets already loaded, none added (--reset regenerates).")
        else:
            self.stdout.write("Tickets: none requested.")

        if new_ids and no_triage:
            self.stdout.write("Triage skipped (--no-triage): tickets are pending; `manage.py triage_pending` does it.")
        elif new_ids:
            from issues.services import routing_inline

            # Issues created now are routed in this process: queued for a worker instead, a
            # few hundred routing tasks would delay the first ticket a newcomer files.
            with routing_inline():
                self._triage(new_ids)
                self._review(plan, today=now.date())
            self._library()
        if new_ids or reset:
            self._impact(seed=seed, now=now, triaged=bool(new_ids) and not no_triage)
        if new_ids and not no_triage:
            # After the story's fixes (which merge and resolve issues): the team works what is still open.
            self.stdout.write(f"Teams: {demo_team_assign()} issues assigned by their leads to a team member.")
        self._story(now)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready in {time.perf_counter() - started:.1f} s."))
        self._logins(users)

    def _triage(self, ticket_ids: list[int]) -> None:
        triage_started = time.perf_counter()

        def progress(ids):
            return tqdm(ids, desc="Triage", unit="ticket", mininterval=0.5, file=sys.stderr)

        result = demo_tickets_triage(ticket_ids=ticket_ids, progress=progress)
        if not result.available:
            self.stdout.write(
                "Triage: the classification service (feedback.classification.ticket_classify) is not installed "
                "yet, so the tickets stay pending; a worker's sweeper or `triage_pending` will classify them."
            )
            return
        statuses = ", ".join(f"{k} {v}" for k, v in sorted((result.statuses or {}).items()))
        self.stdout.write(
            f"Triage: {result.attempted} tickets in {time.perf_counter() - triage_started:.1f} s ({statuses})."
        )
        if result.failed:
            self.stderr.write(
                f"Triage failed for {result.failed} tickets, left pending; first error: {result.first_error}"
                + (" (stopped early: every attempt failed)" if result.stopped_early else "")
            )

    def _review(self, plan, *, today) -> None:
        """Agents cleared the review queue every day before today, and the nightly retrain learned from them."""
        from feedback.classification import model_train

        started = time.perf_counter()
        confirmed = demo_review_queue_work(plan=plan, before=today)
        self.stdout.write(
            f"Review queue: {confirmed} tickets from before today confirmed by agent "
            f"in {time.perf_counter() - started:.1f} s; today's are left to review."
        )
        if not confirmed:
            return
        started = time.perf_counter()
        with tqdm(total=1, desc="Retraining", unit="step", file=sys.stderr, leave=False) as bar:

            def progress(done: int, total: int, stage: str) -> None:
                bar.total = total
                bar.set_postfix_str(stage)
                bar.n = done
                bar.refresh()

            result = model_train(progress=progress)
        self.stdout.write(f"Model retrained on the agents' labels in {time.perf_counter() - started:.1f} s: {result.reason}")

    def _library(self) -> None:
        """Run the library's periodic work now, so a newcomer sees counts, spikes and sub-themes at once."""
        from issues.services import (
            candidates_refresh,
            issues_regressions_check,
            issues_counts_refresh,
            issues_spikes_detect,
            issues_keywords_refresh,
            subthemes_refresh,
        )

        issues_counts_refresh()
        started, _ = issues_spikes_detect()
        issues_regressions_check()
        issues_keywords_refresh(limit=100_000)
        themes = sum(subthemes_refresh().values())
        candidates = candidates_refresh()
        self.stdout.write(f"Issue library: {len(started)} spiking, {themes} sub-themes, {candidates} candidate types.")

    def _impact(self, *, seed: int, now, triaged: bool) -> None:
        """Orders and returns for the same 90 days, then the story's fixes resolved and measured."""
        import random

        from issues.impact.demo import load_demo_sales, resolve_demo_issues

        rows = load_demo_sales(rng=random.Random(seed), story=story, today=now.date())
        self.stdout.write(f"Sales: {rows} daily order/return rows.")
        if not triaged:
            self.stdout.write("Fixes not resolved: the tickets are not triaged, so their issues do not exist yet.")
            return
        for result in resolve_demo_issues(story=story, today=now.date()):
            verdict = result.impact.verdict_zh if result.impact else result.note
            self.stdout.write(f"  fix {result.story_key}: {verdict}")

    def _story(self, now) -> None:
        self.stdout.write("Story (feedback/demo/story.py):")
        for item in story.STORIES:
            when = item.action_date(now.date())
            fix = f"fix 「{item.action}」 on {when} by {item.resolved_by}" if item.action else "open, spiking now"
            skus = ", ".join(item.skus) if len(item.skus) <= 2 else f"{item.skus[0]} .. {item.skus[-1]}"
            self.stdout.write(f"  {item.key:<20} {item.category:<22} {skus:<20} {fix}")

    def _logins(self, users) -> None:
        self.stdout.write("Demo logins:")
        self.stdout.write(f"  {'username':<18} {'password':<27} role")
        kept = False
        for result in users:
            spec = result.spec
            role = spec.role + (f" ({spec.department})" if spec.department else "")
            marker = "" if result.password_set else " *"
            kept = kept or not result.password_set
            self.stdout.write(f"  {spec.username:<18} {spec.password:<27} {role}{marker}")
        if kept:
            self.stdout.write("  * existing account: password left as it was; --reset sets the demo password again.")
