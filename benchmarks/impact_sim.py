"""How often each way of judging a fix is wrong, on simulated shops (no database).

Placebo fixes (nothing changed) on random products and dates measure the
false-positive rate; real fixes (returns x 0.7 from the day after the action
date) measure the detection rate, both in 14-day windows, for products
selling 150 to 2,500 orders a day. The shops have overdispersed daily return
rates (22 % spread), weekday patterns, category drift and a 双11 surge with a
return wave: see ``issues.impact.simulation``.

    .venv/bin/python benchmarks/impact_sim.py [--shops 40] [--trials 200] [--category-trials 20] [--seed 2026]

Methods: "plain" is the old pooled before/after z-test; "new" is the
difference-in-differences against the category's other products with a
quasi-binomial dispersion (``issues.impact.estimation``).

Whole-category fixes are judged against the other categories, whose drift
differs: the new method counts that drift, estimated from the 180 days before
the windows (``--category-trials`` per shop and effect; a local-level fit
each, so slower).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from issues.impact.simulation import rate_with_interval, trials_run

BANDS = ((150, 400), (400, 1000), (1000, 2501))


def _line(label: str, outcomes, attribute: str) -> str:
    hits = sum(getattr(o, attribute) for o in outcomes)
    share, low, high = rate_with_interval(hits, len(outcomes))
    return f"{label:<28} {share * 100:5.1f}%  [{low * 100:4.1f}%, {high * 100:4.1f}%]  n={len(outcomes)}"


def _report(title: str, outcomes, *, bands: bool = True) -> None:
    print(f"\n{title}")
    for method, attribute in (("plain before/after", "plain_significant"), ("new (controls, DiD)", "new_significant")):
        print(f"  {method}")
        print("    " + _line("all", outcomes, attribute))
        for low, high in BANDS if bands else ():
            band = [o for o in outcomes if low <= o.base_orders < high]
            print("    " + _line(f"{low}-{min(high, 2500)} orders/day", band, attribute))
        festival = [o for o in outcomes if o.festival]
        print("    " + _line("windows touching 双11", festival, attribute))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=40)
    parser.add_argument("--trials", type=int, default=200, help="SKU fixes per shop for the placebo and -30%% runs")
    parser.add_argument("--reference-trials", type=int, default=50, help="SKU fixes per shop for -20%% and -10%%")
    parser.add_argument("--category-trials", type=int, default=20, help="whole-category fixes per shop and effect")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--window-days", type=int, default=14)
    args = parser.parse_args()
    began = time.perf_counter()
    print(f"{args.shops} shops; SKU fixes per shop: {args.trials} (placebo, -30%), {args.reference_trials} "
          f"(-20%, -10%); whole-category fixes per shop: {args.category_trials}; {args.window_days}-day windows, "
          f"seed {args.seed}")
    for effect, trials, title in (
        (0.0, args.trials, "False positives: placebo fixes called significant (target <= 5%)"),
        (-0.3, args.trials, "Detection: real -30% return-rate changes called significant (target >= 70%)"),
        (-0.2, args.reference_trials, "Detection of -20% (for reference)"),
        (-0.1, args.reference_trials, "Detection of -10% (for reference)"),
    ):
        outcomes = trials_run(seed=args.seed, shops=args.shops, trials_per_shop=trials, effect=effect,
                              window_days=args.window_days)
        _report(title, outcomes)
    for effect, title in ((0.0, "Whole-category placebo fixes called significant (controls: other categories)"),
                          (-0.3, "Whole-category real -30% changes called significant")):
        if args.category_trials:
            outcomes = trials_run(seed=args.seed, shops=args.shops, trials_per_shop=args.category_trials,
                                  effect=effect, window_days=args.window_days, scope="category")
            _report(title, outcomes, bands=False)
    print(f"\n{time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
