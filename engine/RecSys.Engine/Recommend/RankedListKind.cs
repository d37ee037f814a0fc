namespace RecSys.Engine.Recommend;

/// <summary>What a row of precomputed lists is ranked for.</summary>
public enum RankedListKind
{
    /// <summary>A known user's top-N, heard tracks excluded (rows: users).</summary>
    Personal = 1,

    /// <summary>A track's most similar tracks, itself excluded (rows: tracks).</summary>
    Similar = 2,
}
