using RecSys.Engine.Sparse;

namespace RecSys.Engine.Als;

/// <summary>A backend that trains ALS factors: the CPU trainer or the ILGPU one. Same options, same model out.</summary>
public interface IAlsTrainer
{
    /// <summary>Which device trains, in words (for logs and reports).</summary>
    string Device { get; }

    AlsFactors Fit(CsrMatrix userItems, CsrMatrix itemUsers, Action<IterationReport>? onIteration = null, CancellationToken cancellationToken = default);
}
