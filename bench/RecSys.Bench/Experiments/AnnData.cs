using RecSys.Engine.Data;
using RecSys.Engine.Model;

namespace RecSys.Bench.Experiments;

/// <summary>Item and query vectors for the ANN experiment: from .npy files, a model, or generated.</summary>
public sealed record AnnData(float[] Items, float[] Queries, int Dimensions, bool QueriesAreItems, string Source)
{
    public int ItemCount => Items.Length / Dimensions;
    public int QueryCount => Queries.Length / Dimensions;

    public static AnnData FromNpy(string items, string queries)
    {
        var (i, di) = Read(items);
        var (q, dq) = Read(queries);
        if (di != dq) throw new ArgumentException($"{items} has {di} columns, {queries} has {dq}");
        return new AnnData(i, q, di, false, $"{items} / {queries}");
    }

    /// <summary>A model's item factors; queries are user factors (inner product) or the items themselves (cosine).</summary>
    public static AnnData FromModel(string path, bool cosine)
    {
        var m = ModelFile.Load(path);
        return cosine
            ? new AnnData(m.ItemFactors, m.ItemFactors, m.Factors, true, path)
            : new AnnData(m.ItemFactors, m.UserFactors, m.Factors, false, path);
    }

    /// <summary>
    /// Low rank plus noise, seeded: each vector is a random mix of 16 latent directions plus 10% noise,
    /// with norms spread over a log-normal range like real factors.
    /// </summary>
    public static AnnData Synthetic(int items, int queries, int dims, ulong seed = 7)
    {
        const int rank = 16;
        var rng = new SplitMix(seed);
        var basis = new float[rank * dims];
        for (int i = 0; i < basis.Length; i++) basis[i] = (float)rng.NextGaussian();
        float[] Make(int n, ulong stream)
        {
            var r = new SplitMix(seed, stream);
            var v = new float[(long)n * dims];
            Span<float> mix = stackalloc float[rank];
            for (int row = 0; row < n; row++)
            {
                for (int j = 0; j < rank; j++) mix[j] = (float)r.NextGaussian();
                float scale = (float)Math.Exp(0.5 * r.NextGaussian());
                for (int d = 0; d < dims; d++)
                {
                    float s = 0;
                    for (int j = 0; j < rank; j++) s += mix[j] * basis[j * dims + d];
                    v[(long)row * dims + d] = scale * (s / MathF.Sqrt(rank) + 0.1f * (float)r.NextGaussian());
                }
            }
            return v;
        }
        return new AnnData(Make(items, 1), Make(queries, 2), dims, false, $"synthetic({items} x {dims}, low rank {rank} + noise, seed {seed})");
    }

    private static (float[] Values, int Columns) Read(string path)
    {
        using var s = File.OpenRead(path);
        var a = Npy.Read(s, Path.GetFileName(path));
        if (a.Shape.Length != 2) throw new ArgumentException($"{path}: expected a 2-D array, shape {a.ShapeText}");
        return (a.ToFloat32(), (int)a.Shape[1]);
    }

    /// <summary>A seeded sample of at most <paramref name="max"/> queries.</summary>
    public AnnData Sample(int max)
    {
        if (QueryCount <= max) return this;
        var rng = new SplitMix(99);
        var chosen = Enumerable.Range(0, QueryCount).OrderBy(_ => rng.NextUInt64()).Take(max).Order().ToArray();
        var q = new float[max * Dimensions];
        for (int i = 0; i < max; i++) Queries.AsSpan(chosen[i] * Dimensions, Dimensions).CopyTo(q.AsSpan(i * Dimensions));
        return QueriesAreItems ? this with { Queries = q, SampledItemIds = chosen } : this with { Queries = q };
    }

    /// <summary>When queries are items, the item index of each query (to exclude it from its own results).</summary>
    public int[]? SampledItemIds { get; init; }

    public int SelfIndex(int query) => !QueriesAreItems ? -1 : SampledItemIds?[query] ?? query;
}
