using RecSys.Engine.Model;

namespace RecSys.Server.Hosting;

/// <summary>
/// What an imported model must pass before <c>model import --promote</c> makes it current. An imported
/// model has no holdout score to compare, so the gate refuses what is plainly not a usable model of this
/// service: no users, mostly zero item vectors (an untrained or truncated factor matrix), or a catalog
/// that shares less than half of the smaller catalog's tracks with the serving model's (a model of another service or
/// another id space). Loading has already refused non-finite values and inconsistent shapes.
/// </summary>
public static class ImportGate
{
    public const double MinTrackOverlap = 0.5;
    public const double MaxZeroItems = 0.5;

    /// <summary>Every reason to refuse <paramref name="candidate"/>; empty when it passes.</summary>
    public static List<string> Check(RecModel candidate, RecModel? current)
    {
        var problems = new List<string>();
        if (candidate.UserCount == 0) problems.Add("the model has no users");
        if (candidate.ItemCount == 0)
        {
            problems.Add("the model has no items");
            return problems;
        }
        int zero = 0;
        for (int i = 0; i < candidate.ItemCount; i++)
        {
            if (!candidate.ItemVector(i).ContainsAnyExcept(0f)) zero++;
        }
        if (zero > MaxZeroItems * candidate.ItemCount)
        {
            problems.Add($"{zero} of {candidate.ItemCount} item vectors are all zero");
        }
        if (current is not null)
        {
            // Against the smaller catalog: one that grew or shrank a lot still shares most of the smaller one.
            int shared = candidate.TrackIds.Count(id => current.TrackIndex.IndexOf(id) >= 0);
            int smaller = Math.Min(candidate.ItemCount, current.ItemCount);
            double overlap = (double)shared / smaller;
            if (overlap < MinTrackOverlap)
            {
                problems.Add($"it shares {shared} tracks with the current model, {overlap:P0} of the smaller catalog's {smaller} (at least {MinTrackOverlap:P0} expected)");
            }
        }
        return problems;
    }
}
