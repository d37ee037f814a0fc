using BenchmarkDotNet.Running;
using RecSys.Bench.Experiments;

// Experiment commands (one-off measurements with JSON output) first; everything else goes to BenchmarkDotNet.
if (args.Length > 0 && Experiment.TryRun(args, out int exitCode))
{
    return exitCode;
}
BenchmarkSwitcher.FromAssembly(typeof(Experiment).Assembly).Run(args, RecSys.Bench.Suites.BenchConfig.Create());
return 0;
