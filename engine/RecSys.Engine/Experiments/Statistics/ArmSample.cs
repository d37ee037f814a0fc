namespace RecSys.Engine.Experiments.Statistics;

/// <summary>One user's contribution to a ratio metric ΣY / ΣX over an arm, and their covariate (for CUPED).</summary>
public readonly record struct UserValue(double Numerator, double Denominator, double Covariate);

/// <summary>
/// The first and second moments of an arm's users for one metric: all the delta method and CUPED need.
/// The metric's estimate is the ratio of means m = Ȳ / X̄ (a per-user mean when X = 1).
/// </summary>
public sealed class ArmSample
{
    public int Users { get; }
    public double MeanY { get; }
    public double MeanX { get; }
    public double MeanC { get; }
    private readonly double _varY, _varX, _varC, _covYX, _covYC, _covXC;

    public ArmSample(ReadOnlySpan<UserValue> users)
    {
        Users = users.Length;
        if (Users == 0) return;
        double sy = 0, sx = 0, sc = 0;
        foreach (var u in users)
        {
            sy += u.Numerator;
            sx += u.Denominator;
            sc += u.Covariate;
        }
        MeanY = sy / Users;
        MeanX = sx / Users;
        MeanC = sc / Users;
        if (Users < 2) return;
        // Two passes over centred values: exact where one-pass sums of squares cancel.
        double yy = 0, xx = 0, cc = 0, yx = 0, yc = 0, xc = 0;
        foreach (var u in users)
        {
            double y = u.Numerator - MeanY, x = u.Denominator - MeanX, c = u.Covariate - MeanC;
            yy += y * y;
            xx += x * x;
            cc += c * c;
            yx += y * x;
            yc += y * c;
            xc += x * c;
        }
        double n1 = Users - 1;
        (_varY, _varX, _varC, _covYX, _covYC, _covXC) = (yy / n1, xx / n1, cc / n1, yx / n1, yc / n1, xc / n1);
    }

    /// <summary>The metric, ΣY / ΣX; NaN without users or without any denominator.</summary>
    public double Mean => MeanX == 0 ? double.NaN : MeanY / MeanX;

    /// <summary>
    /// Sample variance of the linearised metric L = (Y − m·X) / X̄ (the delta method: Var(m) ≈ Var(L) / n;
    /// Deng, Knoblich and Lu 2018, "Applying the Delta Method in Metric Analytics").
    /// </summary>
    public double LinearisedVariance
    {
        get
        {
            double m = Mean;
            return (_varY - 2 * m * _covYX + m * m * _varX) / (MeanX * MeanX);
        }
    }

    /// <summary>Sample covariance of the linearised metric with the covariate.</summary>
    public double LinearisedCovariance => (_covYC - Mean * _covXC) / MeanX;

    public double CovariateVariance => _varC;
}
