"""python manage.py impact_backtest [--runs N]: the impact method's error rates on this shop's own history."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ...conf import impact_setting
from ...services.calibration import BacktestError, impact_backtest


class Command(BaseCommand):
    help = (
        "Judge placebo fixes on random (SKU, date) pairs of the imported history that had no fix, and report how "
        "often the method calls them significant (its false-positive rate, near 5% when it is honest), then its "
        "power on the same pairs with the returns after the date reduced by 10/20/30%. The result is stored; the "
        "impact dashboard shows the latest."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--runs", type=int, default=None, help="placebo fixes to judge (default IMPACT_BACKTEST_RUNS)")
        parser.add_argument("--window-days", type=int, default=None)
        parser.add_argument("--seed", type=int, default=0, help="random seed of the (SKU, date) draws")

    def handle(self, *args, runs, window_days, seed, **options) -> None:
        runs = runs if runs is not None else impact_setting("IMPACT_BACKTEST_RUNS")
        window_days = window_days or impact_setting("IMPACT_WINDOW_DAYS")
        if runs < 1:
            raise CommandError("--runs must be at least 1")
        if not 1 <= window_days <= 365:
            raise CommandError("--window-days must be between 1 and 365")
        try:
            result = impact_backtest(runs=runs, window_days=window_days, seed=seed)
        except BacktestError as error:
            raise CommandError(str(error)) from None
        if not result.runs:
            raise CommandError("no placebo fix had enough orders and returns to be judged")
        self.stdout.write(
            f"history {result.data_from} .. {result.data_until}, {result.window_days}-day windows, "
            f"method {result.method}"
        )
        self.stdout.write(
            f"false positives: {result.false_positives} of {result.runs} placebo fixes = "
            f"{result.false_positive_rate * 100:.1f}% (95% interval {result.false_positive_ci_low * 100:.1f}%"
            f"-{result.false_positive_ci_high * 100:.1f}%; an honest test is near 5%)"
        )
        for effect, figures in result.power.items():
            if figures["rate"] is None:
                continue
            self.stdout.write(
                f"power at {float(effect) * 100:+.0f}% returns: {figures['detected']} of {figures['trials']} = "
                f"{figures['rate'] * 100:.1f}% (95% interval {figures['ci'][0] * 100:.1f}%-{figures['ci'][1] * 100:.1f}%)"
            )
        self.stdout.write(f"{result.seconds:.1f} s; stored as calibration #{result.pk}")
