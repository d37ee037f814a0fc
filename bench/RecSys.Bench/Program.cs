using BenchmarkDotNet.Running;
using RecSys.Bench.Experiments;

// Experiment commands (one-off measurements with JSON output) first; everything else goes to BenchmarkDotNet.
try
{
    if (args.Length > 0 && Experiment.TryRun(args, out int exitCode))
    {
        return exitCode;
    }
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
BenchmarkSwitcher.FromAssembly(typeof(Experiment).Assembly).Run(args, RecSys.Bench.Suites.BenchConfig.Create());
return 0;
