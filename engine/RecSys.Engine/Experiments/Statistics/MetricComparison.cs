namespace RecSys.Engine.Experiments.Statistics;

/// <summary>An arm's metric against the control's: relative lift with its 95 % interval and a two-sided p-value.</summary>
public sealed record MetricComparison(double Mean, double? Lift, double? CiLow, double? CiHigh, double? PValue, double StandardError)
{
    public const double Confidence = 0.95;

    /// <summary>
    /// Compares <paramref name="treatment"/> with <paramref name="control"/>. Every user is one
    /// observation (the unit of randomisation), so plays of one user are never counted as independent.
    /// The difference of the metric is tested with Welch's t (unequal variances, Welch–Satterthwaite
    /// degrees of freedom) on the delta method's variances; the relative lift m_t / m_c − 1 gets its
    /// interval from the delta method too. <paramref name="theta"/> (CUPED's θ, 0 for none) adjusts each
    /// arm by its covariate mean's distance from <paramref name="covariateMean"/>, the pooled mean.
    /// </summary>
    public static MetricComparison Compare(ArmSample treatment, ArmSample control, double theta = 0, double covariateMean = 0)
    {
        double mt = Adjusted(treatment, theta, covariateMean), mc = Adjusted(control, theta, covariateMean);
        double vt = AdjustedVariance(treatment, theta), vc = AdjustedVariance(control, theta);
        double se = Math.Sqrt(vt + vc);
        if (treatment.Users < 2 || control.Users < 2 || !double.IsFinite(mt) || !double.IsFinite(mc) || !double.IsFinite(se))
        {
            return new MetricComparison(mt, null, null, null, null, double.NaN);
        }
        double? p = null;
        double df = double.PositiveInfinity;
        if (se > 0)
        {
            df = (vt + vc) * (vt + vc) / (vt * vt / (treatment.Users - 1) + vc * vc / (control.Users - 1));
            p = Distributions.StudentTTwoSided((mt - mc) / se, df);
        }
        if (mc == 0) return new MetricComparison(mt, null, null, null, p, se);
        double lift = mt / mc - 1;
        double liftSe = Math.Sqrt(vt / (mc * mc) + mt * mt * vc / (mc * mc * mc * mc));
        double t = double.IsPositiveInfinity(df) || df <= 0 ? Distributions.NormalQuantile(0.5 + Confidence / 2) : Distributions.StudentTQuantile(0.5 + Confidence / 2, df);
        return new MetricComparison(mt, lift, lift - t * liftSe, lift + t * liftSe, p, se);
    }

    /// <summary>The arm's metric, CUPED-adjusted: m − θ (C̄_arm − C̄).</summary>
    public static double Adjusted(ArmSample arm, double theta, double covariateMean) =>
        theta == 0 ? arm.Mean : arm.Mean - theta * (arm.MeanC - covariateMean);

    /// <summary>Var(m̂) with CUPED: Var(L − θ C) / n.</summary>
    public static double AdjustedVariance(ArmSample arm, double theta)
    {
        if (arm.Users < 2) return double.NaN;
        double v = arm.LinearisedVariance - 2 * theta * arm.LinearisedCovariance + theta * theta * arm.CovariateVariance;
        return Math.Max(v, 0) / arm.Users;
    }

    /// <summary>
    /// CUPED's θ = Cov(L, C) / Var(C), pooled within arms (Deng, Xu, Kohavi and Walker 2013): the
    /// covariate predates the experiment, so the adjustment is unbiased whatever θ is; this θ minimises
    /// the variance. Zero when the covariate does not vary.
    /// </summary>
    public static double Theta(IReadOnlyList<ArmSample> arms)
    {
        double cov = 0, var = 0;
        foreach (var arm in arms)
        {
            if (arm.Users < 2 || !double.IsFinite(arm.Mean)) continue;
            cov += (arm.Users - 1) * arm.LinearisedCovariance;
            var += (arm.Users - 1) * arm.CovariateVariance;
        }
        return var > 0 ? cov / var : 0;
    }

    /// <summary>Pearson's chi-square goodness of fit of <paramref name="observed"/> counts to <paramref name="weights"/>; null with fewer than two arms or no users.</summary>
    public static double? SampleRatioMismatch(IReadOnlyList<long> observed, IReadOnlyList<double> weights)
    {
        long total = observed.Sum();
        double weightSum = weights.Sum();
        if (observed.Count < 2 || total == 0 || !(weightSum > 0)) return null;
        double chi = 0;
        for (int i = 0; i < observed.Count; i++)
        {
            double expected = total * weights[i] / weightSum;
            chi += (observed[i] - expected) * (observed[i] - expected) / expected;
        }
        return Distributions.ChiSquareSurvival(chi, observed.Count - 1);
    }
}
