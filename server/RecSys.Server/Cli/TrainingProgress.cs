using RecSys.Engine.Als;
using Spectre.Console;

namespace RecSys.Server.Cli;

/// <summary>
/// Shows training progress on stderr (stdout stays clean for --json): a progress bar with elapsed
/// time and ETA on a terminal, one line per iteration otherwise.
/// </summary>
internal static class TrainingProgress
{
    public static AlsFactors Run(int iterations, bool quiet, Func<Action<IterationReport>, AlsFactors> train)
    {
        if (quiet)
        {
            return train(_ => { });
        }
        if (Console.IsErrorRedirected)
        {
            return train(r => Console.Error.WriteLine(
                $"iteration {r.Iteration}/{r.Iterations}  elapsed {r.Elapsed.TotalSeconds:F2} s" + (r.Loss is { } l ? $"  loss {l:G6}" : "")));
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        AlsFactors? result = null;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: Math.Max(1, iterations));
                result = train(r =>
                {
                    task.Description = r.Loss is { } l ? $"training (loss {l:G5})" : "training";
                    task.Value = r.Iteration;
                });
                task.Value = task.MaxValue;
            });
        return result!;
    }
}
