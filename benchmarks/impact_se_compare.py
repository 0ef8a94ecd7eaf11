"""Which standard error for the difference-in-differences? Placebo fixes judged by each candidate.

The same simulated placebo (or real, with --effect) SKU fixes as ``benchmarks/impact_sim.py``
(same seed, same draws), judged with the point estimate of ``did_estimate`` and each of these
standard errors: the binomial GLM's quasi-binomial (Pearson dispersion; the first version),
HC0, cluster-robust by day with statsmodels' small-sample correction and t(G-1), HC2 and HC3 on
the GLM's equivalent weighted least squares, Student and Welch t-tests on the daily log ratios,
and the method in use (``current``). Prints the share called significant, overall, near 双11 and
for products under 400 / over 1,000 orders a day.

    .venv/bin/python benchmarks/impact_se_compare.py [--shops 20] [--trials 200] [--seed 2026] [--effect 0]
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402


def _p_values(trial) -> dict[str, float | None]:
    import statsmodels.api as sm
    from scipy import stats
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    from issues.impact.estimation import did_estimate

    after = trial.after
    yt, nt, yc, nc = trial.treated_returns, trial.treated_orders, trial.control_returns, trial.control_orders
    keep = (nt > 0) & (nc > 0) & (yt + yc > 0)
    yt, nt, yc, nc, after = yt[keep], nt[keep], yc[keep], nc[keep], after[keep]
    exog = np.column_stack([np.ones(len(yt)), after.astype(float)])
    offset = np.log(nt / nc)
    model = GLM(np.column_stack([yt, yc]), exog, family=families.Binomial(), offset=offset)
    out: dict[str, float | None] = {}
    first = model.fit()
    dispersion = max(1.0, float(first.pearson_chi2) / float(first.df_resid))
    out["quasi-binomial"] = float(model.fit(scale=dispersion, use_t=True).pvalues[1])
    out["HC0"] = float(model.fit(cov_type="HC0", use_t=True).pvalues[1])
    out["cluster(day)+corr"] = float(model.fit(cov_type="cluster", use_t=True, cov_kwds={
        "groups": np.arange(len(yt)), "use_correction": True, "df_correction": True}).pvalues[1])
    mu = np.asarray(first.fittedvalues)
    working = np.log(mu / (1 - mu)) - offset + (yt / (yt + yc) - mu) / (mu * (1 - mu))
    for kind in ("HC2", "HC3"):
        fitted = sm.WLS(working, exog, weights=(yt + yc) * mu * (1 - mu)).fit(cov_type=kind, use_t=True)
        out[kind] = float(fitted.pvalues[1])
    ratio = np.log((yt + 0.5) / nt) - np.log((yc + 0.5) / nc)
    out["Student log ratio"] = float(stats.ttest_ind(ratio[after], ratio[~after]).pvalue)
    out["Welch log ratio"] = float(stats.ttest_ind(ratio[after], ratio[~after], equal_var=False).pvalue)
    out["current"] = did_estimate(
        treated_events=trial.treated_returns, treated_exposure=trial.treated_orders,
        control_events=trial.control_returns, control_exposure=trial.control_orders, after=trial.after).p_value
    return out


def main() -> None:
    from issues.impact.simulation import rate_with_interval, simulate_shop, trial_draw

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=20)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--effect", type=float, default=0.0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(args.seed)
    rows = []
    began = time.perf_counter()
    for _ in range(args.shops):
        shop = simulate_shop(rng=rng)
        festival = date(shop.config.start.year, 11, 11)
        for _ in range(args.trials):
            trial = trial_draw(shop, rng=rng, effect=args.effect)
            first, last = shop.days[trial.action_index - 14], shop.days[trial.action_index + 14]
            near = first <= festival + timedelta(days=20) and last >= festival - timedelta(days=10)
            rows.append((shop.base_orders[trial.product], near, _p_values(trial)))
    print(f"{len(rows)} {'placebo' if not args.effect else f'{args.effect:+.0%}'} fixes, seed {args.seed}, "
          f"{time.perf_counter() - began:.0f} s")

    def share(name, selected):
        hits = [r[2][name] < 0.05 for r in selected if r[2][name] is not None]
        rate, low, high = rate_with_interval(sum(hits), len(hits))
        return f"{rate * 100:5.1f}% [{low * 100:4.1f}, {high * 100:4.1f}]"

    for name in rows[0][2]:
        print(f"{name:<20} all {share(name, rows)}  near 双11 {share(name, [r for r in rows if r[1]])}  "
              f"<400/day {share(name, [r for r in rows if r[0] < 400])}  "
              f">=1000/day {share(name, [r for r in rows if r[0] >= 1000])}")


if __name__ == "__main__":
    main()
