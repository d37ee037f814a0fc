using System.CommandLine;
using RecSys.Engine.Als;
using RecSys.Engine.Compute.Gpu;
using RecSys.Engine.Sparse;

namespace RecSys.Server.Cli;

/// <summary>The training options of train, eval and tune, with the engine's defaults.</summary>
internal sealed class AlsCliOptions
{
    private static readonly AlsOptions Defaults = new();

    public Option<int> Factors { get; } = new("--factors") { Description = "Latent factors", DefaultValueFactory = _ => Defaults.Factors };
    public Option<int> Iterations { get; } = new("--iterations") { Description = "ALS iterations", DefaultValueFactory = _ => Defaults.Iterations };
    public Option<float> Regularization { get; } = new("--regularization") { Description = "L2 regularization λ", DefaultValueFactory = _ => Defaults.Regularization };
    public Option<float> Alpha { get; } = new("--alpha") { Description = "Confidence c = 1 + alpha·f(r)", DefaultValueFactory = _ => Defaults.Alpha };
    public Option<string> Scaling { get; } = new("--scaling") { Description = "f(r): linear, log or binary", DefaultValueFactory = _ => Defaults.Scaling.ToString().ToLowerInvariant() };
    public Option<bool> Bm25 { get; } = new("--bm25") { Description = "BM25-weight the raw values before confidence scaling (--bm25 false to turn off)", DefaultValueFactory = _ => Defaults.Bm25 };
    public Option<float> RegExponent { get; } = new("--reg-exponent") { Description = "ν: a row with n interactions gets λ·(n + reg-offset)^ν (0: the same λ for every row)", DefaultValueFactory = _ => Defaults.RegularizationExponent };
    public Option<float> RegOffset { get; } = new("--reg-offset") { Description = "Offset added to a row's interaction count in frequency-scaled regularization", DefaultValueFactory = _ => Defaults.RegularizationOffset };
    public Option<float> UnobservedWeight { get; } = new("--unobserved-weight") { Description = "α₀: weight of every unobserved entry in the loss (1: classic implicit ALS)", DefaultValueFactory = _ => Defaults.UnobservedWeight };
    public Option<float> Bm25K1 { get; } = new("--bm25-k1") { Description = "BM25 K1: saturation of one track's count (with --bm25)", DefaultValueFactory = _ => Defaults.Bm25K1 };
    public Option<float> Bm25B { get; } = new("--bm25-b") { Description = "BM25 B: length normalisation by a listener's total (with --bm25)", DefaultValueFactory = _ => Defaults.Bm25B };
    public Option<int> CgSteps { get; } = new("--cg-steps") { Description = "Conjugate-gradient steps per row", DefaultValueFactory = _ => Defaults.CgSteps };
    public Option<string> Solver { get; } = new("--solver") { Description = "cg or cholesky (exact, slow)", DefaultValueFactory = _ => "cg" };
    public Option<ulong> Seed { get; } = new("--seed") { Description = "Random seed (same seed, same model)", DefaultValueFactory = _ => Defaults.Seed };
    public Option<int> Threads { get; } = new("--threads") { Description = "Worker threads (0 = all cores)", DefaultValueFactory = _ => 0 };
    public Option<float> InitScale { get; } = new("--init-scale") { Description = "Initial factors are uniform in [0, init-scale)", DefaultValueFactory = _ => Defaults.InitScale };
    public Option<bool> Loss { get; } = new("--loss") { Description = "Compute and show the training loss each iteration" };
    public Option<string> Device { get; } = new("--device") { Description = "auto (CUDA when found, else CPU), cpu, gpu, or ilgpu-cpu (kernel verification, slow)", DefaultValueFactory = _ => "auto" };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Factors, Iterations, Regularization, RegExponent, RegOffset, UnobservedWeight, Alpha, Scaling, Bm25, Bm25K1, Bm25B, CgSteps, Solver, Seed, Threads, InitScale, Loss, Device })
        {
            command.Options.Add(o);
        }
    }

    public TrainingDevice ReadDevice(ParseResult r)
    {
        try
        {
            return DeviceSelector.Parse(r.GetValue(Device)!);
        }
        catch (ArgumentException e)
        {
            throw new CliException($"--device: {e.Message}");
        }
    }

    public AlsOptions Read(ParseResult r)
    {
        var options = new AlsOptions
        {
            Factors = r.GetValue(Factors),
            Iterations = r.GetValue(Iterations),
            Regularization = r.GetValue(Regularization),
            RegularizationExponent = r.GetValue(RegExponent),
            RegularizationOffset = r.GetValue(RegOffset),
            UnobservedWeight = r.GetValue(UnobservedWeight),
            Bm25K1 = r.GetValue(Bm25K1),
            Bm25B = r.GetValue(Bm25B),
            Alpha = r.GetValue(Alpha),
            Scaling = Confidence.ParseScaling(r.GetValue(Scaling)!),
            Bm25 = r.GetValue(Bm25),
            CgSteps = r.GetValue(CgSteps),
            Solver = r.GetValue(Solver) switch
            {
                "cg" => AlsSolver.ConjugateGradient,
                "cholesky" => AlsSolver.Cholesky,
                var s => throw new CliException($"--solver must be cg or cholesky, not '{s}'"),
            },
            Seed = r.GetValue(Seed),
            Threads = r.GetValue(Threads),
            InitScale = r.GetValue(InitScale),
            CalculateLoss = r.GetValue(Loss),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new CliException($"--{e.ParamName?.Replace('_', '-')}: {e.Message.Split(" (Parameter")[0]}");
        }
        return options;
    }
}
