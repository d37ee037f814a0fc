namespace RecSys.Engine.Data;

/// <summary>
/// The embedded default data set: a deterministic (for a seed) music catalog with readable artists,
/// albums and tracks, and users whose plays follow a taste mixture over genres with power-law track
/// popularity. Plays are generated as a stream, user by user, each user from its own random stream,
/// so 100M plays never have to sit in memory and the same seed always gives the same plays.
/// </summary>
public sealed class DemoCatalog
{
    private static readonly DateTime Epoch = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private const int TracksPerArtist = 10;
    private const int TracksPerAlbum = 5;
    private const double ReplayProbability = 0.3;
    private const double ExploreProbability = 0.1;

    private readonly int[][] _tracksByGenre; // track indices in popularity order per genre
    private readonly int[] _trackGenre;

    private DemoCatalog(DemoOptions options, TrackInfo[] tracks, (long Id, string Name, string Genre)[] artists, int[] trackGenre, int[][] tracksByGenre)
    {
        Options = options;
        Tracks = tracks;
        Artists = artists;
        _trackGenre = trackGenre;
        _tracksByGenre = tracksByGenre;
    }

    public DemoOptions Options { get; }
    public IReadOnlyList<TrackInfo> Tracks { get; }
    public IReadOnlyList<(long Id, string Name, string Genre)> Artists { get; }

    public static DemoCatalog Generate(DemoOptions options)
    {
        options.Validate();
        var rng = new SplitMix(options.Seed, 0);
        int artistCount = Math.Max(1, (options.Tracks + TracksPerArtist - 1) / TracksPerArtist);
        var artists = new (long Id, string Name, string Genre)[artistCount];
        var artistGenre = new int[artistCount];
        for (int a = 0; a < artistCount; a++)
        {
            int genre = rng.NextInt(options.Genres);
            artistGenre[a] = genre;
            string name = rng.NextDouble() < 0.5
                ? $"The {Pick(DemoWords.Adjectives, ref rng)} {Pick(DemoWords.Nouns, ref rng)}"
                : $"{Pick(DemoWords.Adjectives, ref rng)} {Pick(DemoWords.Nouns, ref rng)}";
            artists[a] = (a + 1, name, DemoWords.GenreNames[genre]);
        }

        var tracks = new TrackInfo[options.Tracks];
        var trackGenre = new int[options.Tracks];
        for (int t = 0; t < options.Tracks; t++)
        {
            int artist = t / TracksPerArtist;
            long album = t / TracksPerAlbum + 1;
            string title = rng.NextDouble() < 0.5
                ? $"{Pick(DemoWords.Adjectives, ref rng)} {Pick(DemoWords.Nouns, ref rng)}"
                : $"{Pick(DemoWords.Nouns, ref rng)} {Pick(DemoWords.Connectors, ref rng)} {Pick(DemoWords.Nouns, ref rng)}";
            long id = t + 1;
            trackGenre[t] = artistGenre[artist];
            tracks[t] = new TrackInfo(
                id, title, artist + 1, artists[artist].Name, album,
                DurationMs: 120_000 + rng.NextInt(300_000),
                PreviewUrl: $"https://cdn.recsys.example/preview/{id}.mp3",
                CoverUrl: $"https://cdn.recsys.example/cover/{album}.jpg",
                Genre: artists[artist].Genre);
        }

        // Popularity order within each genre: a seeded shuffle, sampled with a power law over rank.
        var byGenre = new List<int>[options.Genres];
        for (int g = 0; g < byGenre.Length; g++) byGenre[g] = [];
        for (int t = 0; t < trackGenre.Length; t++) byGenre[trackGenre[t]].Add(t);
        var tracksByGenre = new int[options.Genres][];
        for (int g = 0; g < byGenre.Length; g++)
        {
            int[] list = [.. byGenre[g]];
            for (int i = list.Length - 1; i > 0; i--)
            {
                int j = rng.NextInt(i + 1);
                (list[i], list[j]) = (list[j], list[i]);
            }
            tracksByGenre[g] = list;
        }
        return new DemoCatalog(options, tracks, artists, trackGenre, tracksByGenre);
    }

    /// <summary>Calls <paramref name="sink"/> for every play, users in id order (user ids 1..Users).</summary>
    public void GeneratePlays(Action<Play> sink)
    {
        for (int u = 0; u < Options.Users; u++)
        {
            GenerateUserPlays(u, sink);
        }
    }

    /// <summary>The qualified plays as interaction rows of weight 1 (the matrix builder sums them per user and track).</summary>
    public InteractionData ToInteractions()
    {
        var table = new InteractionTable((int)Math.Min(Options.Plays * 3 / 4 + 1024, Array.MaxLength));
        GeneratePlays(p =>
        {
            if (p.Qualifies)
            {
                table.Add(p.UserId, p.TrackId, 1f);
            }
        });
        return new InteractionData(table, $"demo(seed={Options.Seed}, users={Options.Users}, tracks={Options.Tracks}, plays={Options.Plays})");
    }

    private void GenerateUserPlays(int user, Action<Play> sink)
    {
        var rng = new SplitMix(Options.Seed, (ulong)user + 1);
        double mean = (double)Options.Plays / Options.Users;
        if (mean <= 0)
        {
            return;
        }
        const double sigma = 1.0;
        double mu = Math.Log(mean) - sigma * sigma / 2;
        long count = Math.Max(1, (long)Math.Round(Math.Exp(mu + sigma * rng.NextGaussian())));

        // Taste: one to three genres with random weights.
        int tasteCount = 1 + rng.NextInt(Math.Min(3, Options.Genres));
        Span<int> genres = stackalloc int[3];
        Span<double> cumulative = stackalloc double[3];
        double total = 0;
        for (int i = 0; i < tasteCount; i++)
        {
            genres[i] = rng.NextInt(Options.Genres);
            total += 0.2 + rng.NextDouble();
            cumulative[i] = total;
        }

        var history = new List<int>();
        long userId = user + 1;
        for (long p = 0; p < count; p++)
        {
            int track;
            double r = rng.NextDouble();
            if (history.Count > 0 && r < ReplayProbability)
            {
                track = history[rng.NextInt(history.Count)];
            }
            else
            {
                int genre;
                if (rng.NextDouble() < ExploreProbability)
                {
                    genre = rng.NextInt(Options.Genres);
                }
                else
                {
                    double x = rng.NextDouble() * total;
                    int k = 0;
                    while (k < tasteCount - 1 && x >= cumulative[k]) k++;
                    genre = genres[k];
                }
                int[] pool = _tracksByGenre[genre];
                if (pool.Length == 0)
                {
                    pool = _tracksByGenre[Array.FindIndex(_tracksByGenre, g => g.Length > 0)];
                }
                // Power law over popularity rank: P(rank) roughly proportional to 1 / (rank + 1).
                int rank = (int)Math.Pow(pool.Length + 1, rng.NextDouble()) - 1;
                track = pool[Math.Clamp(rank, 0, pool.Length - 1)];
                history.Add(track);
            }

            bool liked = genres[..tasteCount].Contains(_trackGenre[track]);
            double m = rng.NextDouble();
            int milestone = liked
                ? m < 0.08 ? 25 : m < 0.16 ? 50 : m < 0.30 ? 75 : 100
                : m < 0.35 ? 25 : m < 0.60 ? 50 : m < 0.72 ? 75 : 100;
            var created = Epoch.AddSeconds(rng.NextInt(90 * 24 * 3600));
            sink(new Play(userId, track + 1, milestone, milestone == 100, created));
        }
    }

    private static string Pick(string[] words, ref SplitMix rng) => words[rng.NextInt(words.Length)];
}
