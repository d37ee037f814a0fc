using RecSys.Engine.Data;

namespace RecSys.Tests.Data;

public sealed class MetadataFileReaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_tracks_csv_reads_quoted_fields_and_says_which_fields_it_has()
    {
        var rows = MetadataFileReader.ReadTracks(_dir.Write("t.csv",
            "track_id,title,artist_id,artist_name,duration_ms\n1,\"A, \"\"quoted\"\" title\",7,\"Nina, Jr\",1000\n2,,,,\n"));
        Assert.Equal(new TrackInfo(1, "A, \"quoted\" title", 7, "Nina, Jr", null, 1000, null, null), rows.Tracks[0]);
        Assert.Equal(new TrackInfo(2, null, null, null, null, null, null, null), rows.Tracks[1]);
        Assert.Equal([(7L, "Nina, Jr")], rows.Artists);
        Assert.Equal(new HashSet<string> { "track_id", "title", "artist_id", "duration_ms" }, rows.TrackFields);
    }

    [Fact]
    public void Lastfm_artists_are_artists_and_tracks()
    {
        var rows = MetadataFileReader.ReadArtists(_dir.Write("artists.dat", "id\tname\turl\tpictureURL\n5\tNina\thttp://p\thttp://img\n"));
        Assert.Equal([(5L, "Nina")], rows.Artists);
        Assert.Equal(new TrackInfo(5, "Nina", 5, "Nina", null, null, "http://p", "http://img"), Assert.Single(rows.Tracks));
    }

    [Theory]
    [InlineData("t.csv", "track_id,mood\n1,x\n", ":1: unknown column 'mood'")]
    [InlineData("t.csv", "title\nx\n", ":1: no 'track_id' column")]
    [InlineData("t.csv", "track_id,title\n1,\"open\n", ":2: a quoted field is not closed")]
    [InlineData("t.csv", "track_id,title\n1,a,b\n", ":2: expected 2 fields")]
    [InlineData("t.csv", "track_id,artist_name\n1,Nina\n", ":2: column 'artist_name' needs an 'artist_id'")]
    [InlineData("t.csv", "track_id,duration_ms\n1,-5\n", ":2: column 'duration_ms' must be a non-negative integer")]
    [InlineData("t.csv", "", "the file is empty")]
    public void Bad_tracks_files_name_file_line_and_column(string name, string content, string expected)
    {
        string path = _dir.Write(name, content);
        var e = Assert.Throws<DataFormatException>(() => MetadataFileReader.ReadTracks(path));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith(path, e.Message);
    }

    [Fact]
    public void An_artists_file_without_names_is_refused_at_the_header()
    {
        string path = _dir.Write("a.csv", "artist_id\n1\n");
        Assert.Contains(":1: no 'name' column", Assert.Throws<DataFormatException>(() => MetadataFileReader.ReadArtists(path)).Message);
    }
}
