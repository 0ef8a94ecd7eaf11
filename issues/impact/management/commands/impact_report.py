"""python manage.py impact_report [--issue ID] [--format json|table]: the measured effect of resolved issues."""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from issues.models import Issue

from ...selectors import impact_report_rows
from ...services import impact_measure, impacts_sync


class Command(BaseCommand):
    help = (
        "Print the impact of resolved issues: complaint rate (tickets per 1,000 orders of the issue's scope) and "
        "return rate (share of orders) in the window before and after the action date, the relative change, "
        "the p-value and a verdict. JSON is a list with one object per resolved issue. Issues resolved since the "
        "last measurement are measured first (cheap: it reads the materialised daily metrics)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--issue", type=int, help="only this issue")
        parser.add_argument("--format", choices=["json", "table"], default="table")
        parser.add_argument("--language", choices=["zh-hans", "en"], default="zh-hans", help="language of the verdict")

    def handle(self, *args, issue: int | None, format: str, language: str, **options) -> None:
        if issue is not None:
            if not Issue.objects.filter(pk=issue).exists():
                raise CommandError(f"issue {issue} does not exist")
            impact_measure(issue_id=issue)
        else:
            impacts_sync()
        rows = impact_report_rows(issue_id=issue, language=language)
        if format == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            self.stdout.write("No resolved issue with an action date.")
            return
        self._table(rows)

    def _table(self, rows) -> None:
        def number(value, scale=1.0, digits=2, suffix=""):
            return "—" if value is None else f"{value * scale:.{digits}f}{suffix}"

        header = f"{'issue':>6}  {'category':<20} {'scope':<22} {'action date':<11} {'win':>3}  " \
                 f"{'complaints ‰ before→after':<26} {'returns before→after':<21} verdict"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for row in rows:
            complaints = f"{number(row['complaint_rate_before'])} → {number(row['complaint_rate_after'])}"
            returns = f"{number(row['return_rate_before'], 100, 1, '%')} → {number(row['return_rate_after'], 100, 1, '%')}"
            self.stdout.write(
                f"{row['issue_id']:>6}  {row['category']:<20} {row['scope'][:22]:<22} {row['action_date']:<11} "
                f"{row['window_days']:>3}  {complaints:<26} {returns:<21} {row['verdict']}"
            )
