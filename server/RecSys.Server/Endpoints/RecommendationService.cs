using RecSys.Engine.Ann;
using RecSys.Engine.Recommend;
using RecSys.Server.Configuration;
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
public sealed class RecommendationService(ModelHost host, IUserPlays plays, Events.LivePlays live, ServerOptions options, TimeProvider time)
{
    /// <summary>Whether the user's answer may come from (and go into) the response cache: not while they have plays the model has not seen.</summary>
    public bool Cacheable(long userId) => !live.Has(userId);

    public async ValueTask<(TrackRecommendation[] Items, string Source)> ForUserAsync(long userId, int limit, CancellationToken ct)
    {
        var (ranked, source) = await RankForUserAsync(userId, limit, ct);
        return (ranked.Describe(), source);
    }

    /// <summary>Similar tracks; null when the track is not in the model (or no model is loaded).</summary>
    public TrackRecommendation[]? Similar(long trackId, int limit) => RankSimilar(trackId, limit)?.Describe();

    /// <inheritdoc cref="RankLegacy"/>
    public TrackRecommendation[] Legacy(long userId, int limit) => RankLegacy(userId, limit).Describe();

    /// <summary>
    /// The personal answer on the serving model, or on <paramref name="on"/> (an experiment arm's model
    /// version); <paramref name="excludeHeard"/> false (an experiment arm's serving parameter) lets
    /// tracks the user played be recommended.
    /// </summary>
    public async ValueTask<(RankedTracks Ranked, string Source)> RankForUserAsync(long userId, int limit, CancellationToken ct, ServingModel? on = null, bool excludeHeard = true)
    {
        var serving = on ?? host.Current;
        if (serving is null) return (RankLegacy(userId, limit), RecommendationSource.Legacy);
        var model = serving.Model;
        var tracks = serving.Fields(host.Catalog);
        int user = model.UserIndex.IndexOf(userId);
        // Plays received since training: known users always (their model row plus the new plays); new
        // users only without a database, whose plays table already holds the events and answers below.
        bool fromTable = user < 0 && !string.IsNullOrWhiteSpace(options.Db);
        if (!fromTable && live.Find(userId) is { } liveUser && live.Answer(serving, liveUser) is { } answer)
        {
            string source = answer.Known && answer.Tracks >= options.ColdStartThreshold ? RecommendationSource.Ml : RecommendationSource.FoldIn;
            return (RankLive(serving, answer, limit, tracks, excludeHeard), source);
        }
        if (user >= 0 && serving.InteractionCount(user) >= options.ColdStartThreshold)
        {
            var ranked = serving.Recommender.RecommendUser(user, limit, excludeHeard);
            return (WithLiveTracks(serving, ranked, model.UserVector(user), cosine: false, limit, tracks, null), RecommendationSource.Ml);
        }

        int[] heard = [];
        float[] weights = [];
        if (user >= 0)
        {
            heard = model.UserItems!.RowIndices(user).ToArray();
            weights = model.UserItems.RowValues(user).ToArray();
        }
        HashSet<long>? elsewhere = null;
        if (user < 0)
        {
            var known = new List<(int, float)>();
            foreach (var (trackId, count) in await plays.GetAsync(userId, ct))
            {
                int item = model.TrackIndex.IndexOf(trackId);
                if (item >= 0) known.Add((item, count));
                else (elsewhere ??= []).Add(trackId);
            }
            heard = known.Select(k => k.Item1).ToArray();
            weights = known.Select(k => k.Item2).ToArray();
        }
        if (heard.Length > 0)
        {
            var vector = serving.Recommender.FoldIn(heard, weights);
            var ranked = serving.Recommender.RecommendVector(vector, limit, excludeHeard ? heard : []);
            return (WithLiveTracks(serving, ranked, vector, cosine: false, limit, tracks, excludeHeard ? elsewhere : null), RecommendationSource.FoldIn);
        }
        return (new RankedTracks(Popular(serving, limit), tracks), RecommendationSource.Popularity);
    }

    /// <summary>The most popular tracks (an experiment's popularity arm); the legacy list while no model is loaded.</summary>
    public RankedTracks RankPopular(long userId, int limit)
    {
        var serving = host.Current;
        return serving is null ? RankLegacy(userId, limit) : new RankedTracks(Popular(serving, limit), serving.Fields(host.Catalog));
    }

    private RankedTracks RankLive(ServingModel serving, Events.LiveAnswer answer, int limit, TrackFields tracks, bool excludeHeard)
    {
        if (answer.Heard.Length == 0) return new RankedTracks(Popular(serving, limit), tracks);
        // The answer keeps the usual ranking (heard excluded); an arm that includes heard tracks computes its own.
        var ranked = excludeHeard
            ? answer.Ranked(limit, n => serving.Recommender.RecommendVector(answer.Vector, n, answer.Heard))
            : serving.Recommender.RecommendVector(answer.Vector, limit);
        return WithLiveTracks(serving, ranked, answer.Vector, cosine: false, limit, tracks, excludeHeard ? answer.HeardElsewhere : null);
    }

    /// <summary>
    /// A model answer with the tracks played since training that have factors merged in (scored the
    /// same way); the answer itself when none makes it in, which is also what the response cache keeps.
    /// </summary>
    private RankedTracks WithLiveTracks(
        ServingModel serving, ScoredIndex[] ranked, ReadOnlySpan<float> query, bool cosine, int limit, TrackFields tracks, IReadOnlySet<long>? skip)
    {
        var extra = live.Tracks(serving);
        if (extra.Count == 0 || extra.Merge(ranked, serving.Model.TrackIds, query, cosine, limit, skip) is not { } merged) return new RankedTracks(ranked, tracks);
        return new RankedTracks(merged.Select((m, i) => new ScoredIndex(i, m.Score)).ToArray(), merged.Select(m => m.TrackId).ToArray(), tracks.Catalog);
    }

    /// <summary>The most popular tracks, with listeners counted from events since training.</summary>
    private ScoredIndex[] Popular(ServingModel serving, int limit) => live.Popular(serving, limit) ?? serving.Recommender.Popular(limit);

    /// <summary>
    /// Similar tracks; null when the track is neither in the model nor played enough since training to
    /// have factors (or no model is loaded).
    /// </summary>
    public RankedTracks? RankSimilar(long trackId, int limit)
    {
        var serving = host.Current;
        if (serving is null) return null;
        var tracks = serving.Fields(host.Catalog);
        int item = serving.Model.TrackIndex.IndexOf(trackId);
        if (item >= 0) return WithLiveTracks(serving, serving.Recommender.SimilarItems(item, limit), serving.Model.ItemVector(item), cosine: true, limit, tracks, null);
        var extra = live.Tracks(serving);
        if (!extra.TryFind(trackId, out int at)) return null;
        var vector = extra.Vector(at);
        var ranked = serving.Recommender.Retrievers.Similar.Search(vector, limit);
        return WithLiveTracks(serving, ranked, vector, cosine: true, limit, tracks, new HashSet<long> { trackId });
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
