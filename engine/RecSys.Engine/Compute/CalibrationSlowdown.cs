#if RECSYS_SLOWDOWN
using System.Runtime.CompilerServices;

namespace RecSys.Engine.Compute;

/// <summary>
/// A deliberate slowdown for calibrating regression runs (<c>B regress --calibrate</c>), compiled in
/// only when the engine is built with <c>-p:RecSysSlowdown=true</c>: with RECSYS_SLOWDOWN=f in the
/// environment, every (1/f)-th call of a kernel that asks does its work twice, so that kernel costs
/// about f more. The check is a countdown (no division, no thread-static), so the switch itself costs
/// next to nothing; calibration measures that cost with f = 0. Release builds carry none of it.
/// </summary>
internal static class CalibrationSlowdown
{
    private static readonly int Period = Environment.GetEnvironmentVariable("RECSYS_SLOWDOWN") is { } text
        && double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out double fraction) && fraction > 0
        ? Math.Max(1, (int)Math.Round(1 / fraction)) : 0;

    /// <summary>Shared by all threads: the suites it calibrates run on one; a race would only blur f.</summary>
    private static int s_countdown = Period;

    /// <summary>Whether this call should repeat its work.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Due()
    {
        if (Period == 0 || --s_countdown > 0) return false;
        s_countdown = Period;
        return true;
    }
}
#endif
