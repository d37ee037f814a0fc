using RecSys.Engine.Data;
using RecSys.Engine.Sparse;

namespace RecSys.Tests.Data;

public sealed class DemoCatalogTests
{
    private static readonly DemoOptions Small = new() { Users = 300, Tracks = 2_000, Plays = 30_000, Seed = 7 };

    private static List<Play> Plays(DemoOptions options)
    {
        var list = new List<Play>();
        DemoCatalog.Generate(options).GeneratePlays(list.Add);
        return list;
    }

    [Fact]
    public void Same_seed_same_catalog_and_plays()
    {
        Assert.Equal(Plays(Small), Plays(Small));
        Assert.Equal(DemoCatalog.Generate(Small).Tracks, DemoCatalog.Generate(Small).Tracks);
        Assert.NotEqual(Plays(Small), Plays(Small with { Seed = 8 }));
    }

    [Fact]
    public void Catalog_has_readable_metadata_for_every_track()
    {
        var catalog = DemoCatalog.Generate(Small);
        Assert.Equal(Small.Tracks, catalog.Tracks.Count);
        foreach (var t in catalog.Tracks)
        {
            Assert.False(string.IsNullOrWhiteSpace(t.Title));
            Assert.False(string.IsNullOrWhiteSpace(t.ArtistName));
            Assert.StartsWith("https://", t.PreviewUrl);
            Assert.StartsWith("https://", t.CoverUrl);
            Assert.InRange(t.DurationMs!.Value, 120_000, 420_000);
            Assert.Contains(t.ArtistId!.Value, catalog.Artists.Select(a => a.Id));
        }
    }

    [Fact]
    public void Plays_are_about_the_requested_count_with_power_law_popularity()
    {
        var plays = Plays(Small);
        Assert.InRange(plays.Count, Small.Plays * 0.8, Small.Plays * 1.25);
        Assert.All(plays, p => Assert.InRange(p.UserId, 1, Small.Users));
        Assert.All(plays, p => Assert.InRange(p.TrackId, 1, Small.Tracks));
        Assert.Contains(plays, p => !p.Qualifies);
        Assert.Contains(plays, p => p.Qualifies);

        var counts = plays.GroupBy(p => p.TrackId).Select(g => g.Count()).OrderDescending().ToArray();
        int top1Percent = counts.Take(Small.Tracks / 100).Sum();
        // A power law puts far more than 1% of the plays on the top 1% of tracks.
        Assert.True(top1Percent > plays.Count * 0.05, $"top 1% of tracks got {top1Percent} of {plays.Count} plays");
    }

    [Fact]
    public void Interactions_are_the_qualified_plays()
    {
        var plays = Plays(Small);
        var data = DemoCatalog.Generate(Small).ToInteractions();
        Assert.Equal(plays.Count(p => p.Qualifies), data.Table.Count);
        var matrix = InteractionMatrix.Build(data.Table);
        Assert.Equal(plays.Where(p => p.Qualifies).Select(p => (p.UserId, p.TrackId)).Distinct().Count(), matrix.Nnz);
    }
}
