namespace RecSys.Tests;

/// <summary>The one closeness check: |a − e| ≤ abs + rel·|e|, NaN and infinities only equal themselves.</summary>
public static class Tolerance
{
    public static bool Close(double expected, double actual, double abs, double rel)
    {
        if (double.IsNaN(expected) || double.IsNaN(actual)) return double.IsNaN(expected) && double.IsNaN(actual);
        if (double.IsInfinity(expected) || double.IsInfinity(actual)) return expected == actual;
        return Math.Abs(expected - actual) <= abs + rel * Math.Abs(expected);
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double abs, double rel, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!Close(expected[i], actual[i], abs, rel))
            {
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (abs {abs}, rel {rel})");
            }
        }
    }

    public static void AssertClose(double expected, double actual, double abs, double rel, string what = "")
    {
        if (!Close(expected, actual, abs, rel)) Assert.Fail($"{what}: expected {expected:R}, got {actual:R} (abs {abs}, rel {rel})");
    }
}
