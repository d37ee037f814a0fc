namespace RecSys.Server.Hosting;

/// <summary>The promoted version and every promotion before it, oldest first (a version promoted again appears again).</summary>
public sealed record PromotionState(string? Current, IReadOnlyList<string> History);

/// <summary>
/// Where a model store keeps its current pointer and promotion history: files beside the versions (one
/// node, <see cref="FilePromotionRegistry"/>) or PostgreSQL, shared by every replica
/// (Cluster/PostgresPromotionRegistry). The versions' files live in the store's folder either way.
/// </summary>
public interface IPromotionRegistry
{
    /// <summary>Where the pointer lives, for /model and messages.</summary>
    string Kind { get; }

    /// <summary>Whether other servers follow this registry too (a node must not move their pointer to suit itself).</summary>
    bool Shared { get; }

    /// <summary>Why the last read was not the registry's own (it answered from a fallback), or null.</summary>
    string? Problem { get; }

    PromotionState Read();

    /// <summary>
    /// Reads the state, applies <paramref name="change"/> and writes its result, atomically with respect
    /// to every other writer of this registry; a null result writes nothing. Exceptions from the change
    /// pass through with nothing written. <paramref name="action"/> names the change (promote, rollback).
    /// </summary>
    PromotionState Change(Func<PromotionState, PromotionState?> change, string action);

    /// <summary>A version was stored: its manifest is recorded where the registry keeps such things.</summary>
    void Added(string version, string manifestJson);
}
