using RecSys.Engine.Recommend;
using RecSys.Server.Contracts;
using RecSys.Server.Hosting;
using RecSys.Server.Metadata;

namespace RecSys.Server.Endpoints;

/// <summary>Which path answered a personal request (the X-Recommendation-Source header).</summary>
public static class RecommendationSource
{
    public const string Ml = "ml";
    public const string FoldIn = "fold-in";
    public const string Popularity = "popularity";
    public const string Legacy = "legacy";
}

/// <summary>
/// The request logic behind the endpoints, free of HTTP so it can be benchmarked in-process:
/// ML for known users with enough history, fold-in for cold users with plays, popularity otherwise,
/// and the legacy pseudo-random list when no model is loaded.
/// </summary>
public sealed class RecommendationService(ModelHost host, IUserPlays plays, ServerOptions options, TimeProvider time)
{
    public async ValueTask<(TrackRecommendation[] Items, string Source)> ForUserAsync(long userId, int limit, CancellationToken ct)
    {
        var (ranked, source) = await RankForUserAsync(userId, limit, ct);
        return (ranked.Describe(), source);
    }

    /// <summary>Similar tracks; null when the track is not in the model (or no model is loaded).</summary>
    public TrackRecommendation[]? Similar(long trackId, int limit) => RankSimilar(trackId, limit)?.Describe();

    /// <inheritdoc cref="RankLegacy"/>
    public TrackRecommendation[] Legacy(long userId, int limit) => RankLegacy(userId, limit).Describe();

    public async ValueTask<(RankedTracks Ranked, string Source)> RankForUserAsync(long userId, int limit, CancellationToken ct)
    {
        var serving = host.Current;
        if (serving is null) return (RankLegacy(userId, limit), RecommendationSource.Legacy);
        var model = serving.Model;
        var tracks = serving.Fields(host.Catalog);
        int user = model.UserIndex.IndexOf(userId);
        if (user >= 0 && serving.InteractionCount(user) >= options.ColdStartThreshold)
        {
            return (new RankedTracks(serving.Recommender.RecommendUser(user, limit), tracks), RecommendationSource.Ml);
        }

        int[] heard;
        float[] weights;
        if (user >= 0)
        {
            heard = model.UserItems!.RowIndices(user).ToArray();
            weights = model.UserItems.RowValues(user).ToArray();
        }
        else
        {
            var known = new List<(int, float)>();
            foreach (var (trackId, count) in await plays.GetAsync(userId, ct))
            {
                int item = model.TrackIndex.IndexOf(trackId);
                if (item >= 0) known.Add((item, count));
            }
            heard = known.Select(k => k.Item1).ToArray();
            weights = known.Select(k => k.Item2).ToArray();
        }
        if (heard.Length > 0)
        {
            var vector = serving.Recommender.FoldIn(heard, weights);
            return (new RankedTracks(serving.Recommender.RecommendVector(vector, limit, heard), tracks), RecommendationSource.FoldIn);
        }
        return (new RankedTracks(serving.Recommender.Popular(limit), tracks), RecommendationSource.Popularity);
    }

    /// <summary>Similar tracks; null when the track is not in the model (or no model is loaded).</summary>
    public RankedTracks? RankSimilar(long trackId, int limit)
    {
        var serving = host.Current;
        if (serving is null) return null;
        int item = serving.Model.TrackIndex.IndexOf(trackId);
        if (item < 0) return null;
        return new RankedTracks(serving.Recommender.SimilarItems(item, limit), serving.Fields(host.Catalog));
    }

    /// <summary>
    /// The legacy service: pseudo-random tracks, the same for a user all day (seeded by user and UTC
    /// date), drawn from the catalog (or the model's tracks when there is no catalog).
    /// </summary>
    public RankedTracks RankLegacy(long userId, int limit)
    {
        var catalog = host.Catalog;
        var pool = catalog.Count > 0 ? catalog.SortedFields : host.Current?.SortedTracks ?? TrackFields.Empty;
        if (pool.TrackIds.Length == 0) return RankedTracks.Empty;
        var day = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime).DayNumber;
        var rng = new Engine.Data.SplitMix((ulong)userId, (ulong)day);
        int n = Math.Min(limit, pool.TrackIds.Length);
        var chosen = new HashSet<int>();
        var ranked = new ScoredIndex[n];
        for (int i = 0; i < n; i++)
        {
            int at;
            do at = rng.NextInt(pool.TrackIds.Length);
            while (!chosen.Add(at));
            ranked[i] = new ScoredIndex(at, 1f - (float)i / n);
        }
        return new RankedTracks(ranked, pool);
    }
}
