using RecSys.Engine.Sparse;

namespace RecSys.Engine.Model;

/// <summary>
/// A trained model in memory: user and item factor matrices (row-major, <see cref="Factors"/> wide),
/// the external ids of their rows, and optional extras (training parameters, item popularity, each
/// user's heard tracks). Construction validates shapes and ids, so an instance is always usable.
/// </summary>
public sealed class RecModel
{
    public const int CurrentFormatVersion = 1;

    public RecModel(
        int factors,
        float[] userFactors,
        float[] itemFactors,
        long[] userIds,
        long[] trackIds,
        string? parametersJson = null,
        float[]? itemPopularity = null,
        CsrMatrix? userItems = null,
        int formatVersion = CurrentFormatVersion)
    {
        if (factors < 1) throw new ModelFormatException($"factors must be >= 1, got {factors}");
        if (userFactors.Length != (long)userIds.Length * factors)
            throw new ModelFormatException($"user_factors has {userFactors.Length} values, expected {userIds.Length} users × {factors} factors");
        if (itemFactors.Length != (long)trackIds.Length * factors)
            throw new ModelFormatException($"item_factors has {itemFactors.Length} values, expected {trackIds.Length} tracks × {factors} factors");
        if (itemPopularity is not null && itemPopularity.Length != trackIds.Length)
            throw new ModelFormatException($"item_popularity has {itemPopularity.Length} values, expected {trackIds.Length}");
        if (userItems is not null && (userItems.Rows != userIds.Length || userItems.Cols != trackIds.Length))
            throw new ModelFormatException($"user_items is {userItems.Rows} × {userItems.Cols}, expected {userIds.Length} × {trackIds.Length}");

        Factors = factors;
        UserFactors = userFactors;
        ItemFactors = itemFactors;
        UserIds = userIds;
        TrackIds = trackIds;
        ParametersJson = parametersJson;
        ItemPopularity = itemPopularity;
        UserItems = userItems;
        FormatVersion = formatVersion;
        try
        {
            UserIndex = IdMap.FromDistinct(userIds, "user id");
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"entry 'user_ids': {e.Message}", e);
        }
        try
        {
            TrackIndex = IdMap.FromDistinct(trackIds, "track id");
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"entry 'track_ids': {e.Message}", e);
        }
    }

    public int Factors { get; }
    public int UserCount => UserIds.Length;
    public int ItemCount => TrackIds.Length;
    public float[] UserFactors { get; }
    public float[] ItemFactors { get; }
    public long[] UserIds { get; }
    public long[] TrackIds { get; }
    public IdMap UserIndex { get; }
    public IdMap TrackIndex { get; }
    public int FormatVersion { get; }

    /// <summary>Training parameters and data counts as JSON (free-form, written by the trainer).</summary>
    public string? ParametersJson { get; }

    /// <summary>Per item: number of users who have it (the popularity ranking and cold-start fallback).</summary>
    public float[]? ItemPopularity { get; }

    /// <summary>Users × items raw weights seen in training: the heard tracks that recommendations exclude.</summary>
    public CsrMatrix? UserItems { get; }

    public ReadOnlySpan<float> UserVector(int user) => UserFactors.AsSpan(user * Factors, Factors);
    public ReadOnlySpan<float> ItemVector(int item) => ItemFactors.AsSpan(item * Factors, Factors);
}
