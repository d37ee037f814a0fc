namespace RecSys.Engine.Ann;

/// <summary>HNSW parameters (Malkov &amp; Yashunin). docs/tuning.md explains each and how the defaults were chosen.</summary>
public sealed record HnswOptions
{
    /// <summary>Links per node on the upper levels; level 0 keeps 2·M.</summary>
    public int M { get; init; } = 16;

    /// <summary>Candidate list size while inserting: larger builds a better graph, slower.</summary>
    public int EfConstruction { get; init; } = 200;

    /// <summary>Candidate list size while searching (at least k is used): the recall/speed knob.</summary>
    public int EfSearch { get; init; } = 40;

    /// <summary>Seed of the level draws.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Build threads; 0 = all cores. One thread gives a deterministic graph.</summary>
    public int Threads { get; init; }

    public void Validate()
    {
        if (M is < 2 or > 128) throw new ArgumentOutOfRangeException(nameof(M), M, "M must be in 2..128");
        if (EfConstruction is < 1 or > 10_000) throw new ArgumentOutOfRangeException(nameof(EfConstruction), EfConstruction, "ef_construction must be in 1..10000");
        if (EfSearch is < 1 or > 100_000) throw new ArgumentOutOfRangeException(nameof(EfSearch), EfSearch, "ef_search must be in 1..100000");
        if (Threads is < 0 or > 1024) throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "threads must be in 0..1024");
    }
}
