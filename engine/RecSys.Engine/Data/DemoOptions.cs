namespace RecSys.Engine.Data;

/// <summary>Size and seed of the generated demo catalog. Defaults follow the original design: 10k users, 50k tracks, about 1M plays.</summary>
public sealed record DemoOptions
{
    public int Users { get; init; } = 10_000;
    public int Tracks { get; init; } = 50_000;
    public long Plays { get; init; } = 1_000_000;
    public ulong Seed { get; init; } = 42;
    public int Genres { get; init; } = 16;

    public void Validate()
    {
        if (Users < 1) throw new ArgumentOutOfRangeException(nameof(Users), Users, "demo users must be >= 1");
        if (Tracks < 1) throw new ArgumentOutOfRangeException(nameof(Tracks), Tracks, "demo tracks must be >= 1");
        if (Plays < 0) throw new ArgumentOutOfRangeException(nameof(Plays), Plays, "demo plays must be >= 0");
        if (Genres < 1 || Genres > DemoWords.GenreNames.Length)
            throw new ArgumentOutOfRangeException(nameof(Genres), Genres, $"demo genres must be in 1..{DemoWords.GenreNames.Length}");
    }
}
