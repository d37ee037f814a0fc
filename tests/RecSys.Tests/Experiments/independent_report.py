"""Recomputes an experiment report's statistics with numpy and scipy, independently of RecSys's C#.

Reads per-user rows (arm, exposures, plays, completed, listening_ms, pre_plays) as CSV from argv[1]
(arm 0 is the control) and prints JSON: per metric and arm the mean, relative lift, 95 % interval
and p-value, unadjusted and with CUPED, and the sample-ratio-mismatch p-value for weights argv[2:].
"""
import json
import sys

import numpy as np
from scipy import stats

rows = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
weights = np.array([float(w) for w in sys.argv[2:]])
arm = rows[:, 0].astype(int)
exposures, plays, completed, listening, pre = (rows[:, i] for i in range(1, 6))
arms = range(len(weights))

metrics = {
    "plays_per_exposure": (plays, exposures),
    "completion_rate": (completed, plays),
    "listening_ms_per_user": (listening, np.ones_like(listening)),
}


def linearised(y, x):
    m = y.sum() / x.sum()
    return m, (y - m * x) / x.mean()


out = {"srm_p_value": float(stats.chisquare([np.sum(arm == a) for a in arms], weights / weights.sum() * len(arm)).pvalue)}
for name, (y, x) in metrics.items():
    per_arm = [linearised(y[arm == a], x[arm == a]) for a in arms]
    # CUPED: theta from the within-arm covariances of the linearised metric and the covariate, pooled.
    cov = sum(np.cov(l, pre[arm == a], ddof=1)[0, 1] * (np.sum(arm == a) - 1) for a, (_, l) in zip(arms, per_arm))
    var = sum(np.var(pre[arm == a], ddof=1) * (np.sum(arm == a) - 1) for a in arms)
    theta = cov / var
    result = {}
    for label, th in (("unadjusted", 0.0), ("cuped", theta)):
        means, variances = [], []
        for a, (m, l) in zip(arms, per_arm):
            c = pre[arm == a]
            means.append(m - th * (c.mean() - pre.mean()))
            variances.append(np.var(l - th * c, ddof=1) / len(l))
        entries = []
        for a in arms:
            if a == 0:
                entries.append(None)
                continue
            n_t, n_c = np.sum(arm == a), np.sum(arm == 0)
            vt, vc = variances[a], variances[0]
            df = (vt + vc) ** 2 / (vt ** 2 / (n_t - 1) + vc ** 2 / (n_c - 1))
            p = 2 * stats.t.sf(abs(means[a] - means[0]) / np.sqrt(vt + vc), df)
            lift = means[a] / means[0] - 1
            se = np.sqrt(vt / means[0] ** 2 + means[a] ** 2 * vc / means[0] ** 4)
            q = stats.t.ppf(0.975, df)
            entries.append({"mean": means[a], "lift": lift, "ci_low": lift - q * se, "ci_high": lift + q * se, "p_value": p})
        result[label] = entries
        if name == "listening_ms_per_user" and label == "unadjusted":
            # For a per-user metric the delta method is the plain Welch test: scipy's own must agree.
            result["scipy_welch_p"] = [None] + [float(stats.ttest_ind(listening[arm == a], listening[arm == 0], equal_var=False).pvalue) for a in arms if a > 0]
    out[name] = result
print(json.dumps(out, default=float))
