namespace RecSys.Bench.Experiments;

/// <summary>Experiment commands: larger one-off measurements that print JSON, run as <c>RecSys.Bench &lt;name&gt; [options]</c>.</summary>
public static class Experiment
{
    public static bool TryRun(string[] args, out int exitCode)
    {
        exitCode = 0;
        switch (args[0])
        {
            case "als":
                exitCode = AlsExperiment.Run(args[1..]);
                return true;
            case "ann":
                exitCode = AnnExperiment.Run(args[1..]);
                return true;
            case "ann-probe":
                exitCode = AnnProbe.Run();
                return true;
            case "plot":
                exitCode = PlotExperiment.Run(args[1..]);
                return true;
            case "gpu-check":
                exitCode = GpuCheck.Run(args[1..]);
                return true;
            case "topn":
                exitCode = TopNExperiment.Run(args[1..]);
                return true;
            case "batch-topn":
                exitCode = BatchTopNExperiment.Run(args[1..]);
                return true;
            case "regress":
                exitCode = Regress.RegressCommand.Run(args[1..]);
                return true;
            case "candidates":
                exitCode = CandidateCheck.Run(args[1..]);
                return true;
            case "csr":
                exitCode = CsrExperiment.Run(args[1..]);
                return true;
            case "floor-server":
                exitCode = FloorServer.Run(args[1..]);
                return true;
            case "load":
                exitCode = Load.LoadDriver.Run(args[1..]);
                return true;
            case "fuzz":
                exitCode = FuzzExperiment.Run(args[1..]);
                return true;
            case "ab-sim":
                exitCode = AbSimExperiment.Run(args[1..]);
                return true;
            case "soak":
                exitCode = Soak.SoakExperiment.Run(args[1..]);
                return true;
            case "sweep":
                exitCode = QualitySweep.Run(args[1..]);
                return true;
            case "serve-memory":
                exitCode = ServeMemoryExperiment.Run(args[1..]);
                return true;
            case "replicas":
                exitCode = ReplicasExperiment.Run(args[1..]);
                return true;
            case "redis-cache":
                exitCode = RedisCacheExperiment.Run(args[1..]);
                return true;
            case "event-latency":
                exitCode = EventLatency.Run(args[1..]);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Runs full passes for at least half a second before timing, so the JIT's tiered and
    /// PGO-optimised code (promoted in the background after a delay) is what gets timed.
    /// </summary>
    public static void WarmUp(Action pass)
    {
        var warm = System.Diagnostics.Stopwatch.StartNew();
        do pass();
        while (warm.ElapsedMilliseconds < 500);
    }

    /// <summary>Reads "--name value" from an argument list.</summary>
    public static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>"--name N", a positive integer, or <paramref name="fallback"/>; anything else is an <see cref="ArgumentException"/> naming it.</summary>
    public static int PositiveIntArg(string[] args, string name, int fallback)
    {
        string? text = Arg(args, name);
        if (text is null) return fallback;
        if (!int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out int value) || value < 1)
        {
            throw new ArgumentException($"{name} must be a positive integer (got '{text}')");
        }
        return value;
    }

    /// <summary>"--name X", a finite number, or <paramref name="fallback"/>; anything else is an <see cref="ArgumentException"/> naming it.</summary>
    public static double NumberArg(string[] args, string name, double fallback)
    {
        string? text = Arg(args, name);
        if (text is null) return fallback;
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            throw new ArgumentException($"{name} must be a number (got '{text}')");
        }
        return value;
    }

    public static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
