using RecSys.Engine.Als;
using RecSys.Engine.Compute.Gpu;
using RecSys.Engine.Model;
using RecSys.Engine.Sparse;

namespace RecSys.Engine.Training;

/// <summary>Turns training output into a <see cref="RecModel"/> with ids, heard tracks, popularity and parameters.</summary>
public static class ModelBuilder
{
    public static RecModel Build(InteractionMatrix matrix, AlsFactors factors, AlsOptions options, string? source)
    {
        var parameters = TrainingParameters.From(options, factors, matrix.Nnz, source, Confidence.AverageRowSum(matrix.UserItems));
        return new RecModel(
            factors.Factors, factors.UserFactors, factors.ItemFactors,
            matrix.Users.Ids.ToArray(), matrix.Items.Ids.ToArray(),
            parameters.ToJson(), Popularity(matrix.UserItems), matrix.UserItems);
    }

    /// <summary>Per item: the number of users who have it.</summary>
    public static float[] Popularity(CsrMatrix userItems)
    {
        var counts = new float[userItems.Cols];
        foreach (int i in userItems.ColIndices.AsSpan(0, userItems.Nnz)) counts[i]++;
        return counts;
    }

    /// <summary>Builds the confidence matrices for training and trains on the CPU.</summary>
    public static AlsFactors Train(CsrMatrix rawUserItems, AlsOptions options, Action<IterationReport>? onIteration = null, CancellationToken cancellationToken = default) =>
        Train(rawUserItems, options, TrainingDevice.Cpu, out _, onIteration, cancellationToken);

    /// <summary>Builds the confidence matrices and trains on the chosen device; <paramref name="deviceUsed"/> says which and why.</summary>
    public static AlsFactors Train(CsrMatrix rawUserItems, AlsOptions options, TrainingDevice device, out string deviceUsed,
        Action<IterationReport>? onIteration = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var confidence = Confidence.Weight(rawUserItems, options.Scaling, options.Alpha, options.Bm25, options.Bm25K1, options.Bm25B);
        using var selected = DeviceSelector.Select(device, options, confidence);
        deviceUsed = selected.Reason;
        return selected.Trainer.Fit(confidence, confidence.Transpose(), onIteration, cancellationToken);
    }
}
