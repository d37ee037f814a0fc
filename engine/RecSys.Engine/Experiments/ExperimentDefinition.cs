namespace RecSys.Engine.Experiments;

/// <summary>
/// One arm: its share of the experiment's users and what it serves them. <paramref name="ExcludeHeard"/>
/// is a serving parameter of <c>ml</c> and <c>model:</c> arms: false lets tracks the user already played
/// be recommended (re-listening against discovery).
/// </summary>
public sealed record ExperimentArm(string Name, double Weight, string Strategy, bool ExcludeHeard = true);

/// <summary>
/// An experiment as stored (one version of it): who is in it (a range of the user layer, the endpoints
/// it covers, its time span), how they split between arms, and how plays are attributed to what they
/// were shown. The first arm is the control every other arm is compared with.
/// </summary>
public sealed record ExperimentDefinition
{
    public const string PersonalEndpoint = "/recommend/user/{user_id}/ml";
    public const string LegacyEndpoint = "/recommend/user/{user_id}";
    public static readonly IReadOnlyList<string> CoverableEndpoints = [PersonalEndpoint, LegacyEndpoint];

    public required string Id { get; init; }
    public int Version { get; init; }
    public required string Salt { get; init; }
    public required IReadOnlyList<ExperimentArm> Arms { get; init; }
    public IReadOnlyList<string> Endpoints { get; init; } = [PersonalEndpoint];

    /// <summary>The part of the user layer (percent, [from, to)) in the experiment: experiments on disjoint parts never share a user.</summary>
    public double LayerFrom { get; init; }
    public double LayerTo { get; init; } = 100;

    public DateTime? StartUtc { get; init; }
    public DateTime? StopUtc { get; init; }

    /// <summary>A play of a shown track counts for the arm this long after the answer that showed it.</summary>
    public double AttributionWindowHours { get; init; } = 24;

    /// <summary>Share of the experiment's users whose exposures are logged (sampled per user, so each sampled user's record is whole).</summary>
    public double ExposureSample { get; init; } = 1;

    /// <summary>CUPED's covariate: each user's plays in this many days before the start.</summary>
    public int CovariateDays { get; init; } = 28;

    /// <summary>QA: users always served an arm; they are left out of the analysis (not randomised).</summary>
    public IReadOnlyDictionary<long, string> Overrides { get; init; } = new Dictionary<long, string>();

    public DateTime CreatedUtc { get; init; }

    public ExperimentArm Control => Arms[0];

    public bool Covers(string endpoint) => Endpoints.Contains(endpoint);

    /// <summary>Whether it serves at <paramref name="nowUtc"/>.</summary>
    public bool RunsAt(DateTime nowUtc) => (StartUtc is not { } start || nowUtc >= start) && (StopUtc is not { } stop || nowUtc < stop);

    public string Status(DateTime nowUtc) =>
        StartUtc is { } start && nowUtc < start ? "scheduled" : StopUtc is { } stop && nowUtc >= stop ? "stopped" : "running";

    /// <summary>Every problem with the definition, each naming its field; empty when valid.</summary>
    public List<string> Validate()
    {
        var problems = new List<string>();
        if (!IsName(Id)) problems.Add($"id '{Id}' must be 1..64 characters of letters, digits, '-', '_' or '.'");
        if (string.IsNullOrEmpty(Salt) || Salt.Length > 128) problems.Add("salt must be 1..128 characters");
        if (Arms.Count is < 2 or > 16) problems.Add($"arms: between 2 and 16 are needed (got {Arms.Count})");
        var names = new HashSet<string>();
        for (int i = 0; i < Arms.Count; i++)
        {
            var arm = Arms[i];
            if (!IsName(arm.Name)) problems.Add($"arms[{i}].name '{arm.Name}' must be 1..64 characters of letters, digits, '-', '_' or '.'");
            else if (!names.Add(arm.Name)) problems.Add($"arms[{i}].name '{arm.Name}' is used twice");
            if (!(arm.Weight > 0 && arm.Weight <= 1e6)) problems.Add($"arms[{i}].weight must be in (0, 1e6] (got {arm.Weight})");
            if (ArmStrategy.TryParse(arm.Strategy, out var strategy) is { } error) problems.Add($"arms[{i}].strategy: {error}");
            else if (!arm.ExcludeHeard && strategy.Kind is not (ArmStrategy.Kinds.Ml or ArmStrategy.Kinds.Model))
            {
                problems.Add($"arms[{i}].exclude_heard: false applies to ml and model:<version> arms only");
            }
        }
        if (Endpoints.Count == 0) problems.Add("endpoints: at least one is needed");
        foreach (string endpoint in Endpoints)
        {
            if (!CoverableEndpoints.Contains(endpoint)) problems.Add($"endpoints: '{endpoint}' is not one an experiment can cover ({string.Join(", ", CoverableEndpoints)})");
        }
        if (Endpoints.Distinct().Count() != Endpoints.Count) problems.Add("endpoints: one is named twice");
        if (!(LayerFrom >= 0 && LayerFrom < LayerTo && LayerTo <= 100)) problems.Add($"layer: need 0 <= from < to <= 100 (got {LayerFrom}..{LayerTo})");
        if (StartUtc is { } a && StopUtc is { } b && b <= a) problems.Add($"stop ({b:O}) must be after start ({a:O})");
        if (!(AttributionWindowHours > 0 && AttributionWindowHours <= 24 * 90)) problems.Add($"attribution_window_hours must be in (0, 2160] (got {AttributionWindowHours})");
        if (!(ExposureSample > 0 && ExposureSample <= 1)) problems.Add($"exposure_sample must be in (0, 1] (got {ExposureSample})");
        if (CovariateDays is < 0 or > 365) problems.Add($"covariate_days must be in 0..365 (got {CovariateDays})");
        foreach (var (user, arm) in Overrides)
        {
            if (user < 0) problems.Add($"overrides: user id {user} is negative");
            if (!names.Contains(arm)) problems.Add($"overrides: user {user} is sent to arm '{arm}', which is not one of the arms");
        }
        return problems;
    }

    /// <summary>Whether the two could both serve one user on one endpoint at one time (then only one of them may exist).</summary>
    public bool Overlaps(ExperimentDefinition other) =>
        Endpoints.Intersect(other.Endpoints).Any()
        && LayerFrom < other.LayerTo && other.LayerFrom < LayerTo
        && (StartUtc ?? DateTime.MinValue) < (other.StopUtc ?? DateTime.MaxValue)
        && (other.StartUtc ?? DateTime.MinValue) < (StopUtc ?? DateTime.MaxValue);

    public static bool IsName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
