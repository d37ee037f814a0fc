using RecSys.Engine.Data;

namespace RecSys.Tests.Data;

public sealed class DelimitedFileReaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static List<(long U, long I, float W)> Rows(InteractionData data)
    {
        var t = data.Table;
        return Enumerable.Range(0, t.Count).Select(i => (t.Users[i], t.Items[i], t.Weights[i])).ToList();
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void Lastfm_header_and_line_endings(string eol)
    {
        string path = _dir.Write("user_artists.dat", string.Join(eol, "userID\tartistID\tweight", "2\t51\t13883", "2\t52\t11690", "3\t51\t1") + eol);
        var reader = new DelimitedFileReader(path);
        var data = reader.Read();
        Assert.Equal(DelimitedFormat.Lastfm, reader.Layout.Format);
        Assert.Equal([(2L, 51L, 13883f), (2L, 52L, 11690f), (3L, 51L, 1f)], Rows(data));
    }

    [Fact]
    public void MovieLens_udata_has_no_header_and_ignores_timestamp()
    {
        string path = _dir.Write("u.data", "196\t242\t3\t881250949\r\n186\t302\t3\t891717742\r\n");
        var reader = new DelimitedFileReader(path);
        Assert.Equal([(196L, 242L, 3f), (186L, 302L, 3f)], Rows(reader.Read()));
        Assert.False(reader.Layout.HasHeader);
    }

    [Fact]
    public void MovieLens_ratings_csv_reads_fractional_ratings()
    {
        string path = _dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,3.5,964981247\n");
        var reader = new DelimitedFileReader(path);
        Assert.Equal([(1L, 1L, 4f), (1L, 3L, 3.5f)], Rows(reader.Read()));
        Assert.Equal(DelimitedFormat.MovieLensCsv, reader.Layout.Format);
    }

    [Theory]
    [InlineData("plays.csv", "user,track\n5,7\n5,8\n", true)]
    [InlineData("plays.csv", "5,7\n5,8\n", false)]
    [InlineData("plays.tsv", "a_col\tb_col\n5\t7\n5\t8\n", true)]
    [InlineData("plays.txt", "5\t7\n5\t8", false)]
    public void Generic_two_columns_weight_defaults_to_one(string name, string content, bool header)
    {
        var reader = new DelimitedFileReader(_dir.Write(name, content));
        Assert.Equal([(5L, 7L, 1f), (5L, 8L, 1f)], Rows(reader.Read()));
        Assert.Equal(header, reader.Layout.HasHeader);
    }

    [Fact]
    public void Generic_three_columns_with_any_header_names()
    {
        var reader = new DelimitedFileReader(_dir.Write("x.csv", "who,what,how_much\r\n0,9223372036854775807,2.5\r\n"));
        Assert.Equal([(0L, long.MaxValue, 2.5f)], Rows(reader.Read()));
    }

    [Fact]
    public void Forced_format_overrides_detection()
    {
        // Named like a Last.fm file but really a headerless CSV.
        var reader = new DelimitedFileReader(_dir.Write("user_artists.dat", "1,2,3\n"), DelimitedFormat.Csv);
        Assert.Equal([(1L, 2L, 3f)], Rows(reader.Read()));
    }

    [Fact]
    public void Utf8_bom_and_blank_lines_are_tolerated()
    {
        var reader = new DelimitedFileReader(_dir.Write("bom.csv", "\uFEFFuser,track\n\n1,2\n\n3,4\n"));
        Assert.Equal([(1L, 2L, 1f), (3L, 4L, 1f)], Rows(reader.Read()));
    }

    [Theory]
    [InlineData("1\tx\t3", 3, "track_id is not an integer")]
    [InlineData("1", 3, "expected at least 2 fields")]
    [InlineData("1\t2\tabc", 3, "weight is not a number")]
    [InlineData("1\t2\t-4", 3, "weight must be a finite number > 0")]
    [InlineData("1\t2\tNaN", 3, "weight must be a finite number > 0")]
    [InlineData("1\t2\t0", 3, "weight must be a finite number > 0")]
    [InlineData("-1\t2\t1", 3, "user_id must be >= 0")]
    [InlineData("1\t-2\t1", 3, "track_id must be >= 0")]
    [InlineData("1\t2\t1\t9", 3, "unexpected extra field (4 fields; rows of this file have 3)")]
    [InlineData("1\t2\t1\0", 3, "NUL byte")]
    [InlineData("1\t2\0\t1", 3, "NUL byte")]
    [InlineData("1\t2", 3, "missing weight field")]
    [InlineData("99999999999999999999\t2\t1", 3, "user_id is not an integer")]
    public void Malformed_row_names_file_line_and_text(string badRow, int line, string problem)
    {
        string path = _dir.Write("user_artists.dat", $"userID\tartistID\tweight\r\n2\t51\t1\r\n{badRow}\r\n2\t53\t1\r\n");
        var e = Assert.Throws<DataFormatException>(() => new DelimitedFileReader(path).Read());
        Assert.Equal(path, e.File);
        Assert.Equal(line, e.Line);
        Assert.Contains(problem, e.Message);
        Assert.Equal(badRow, e.Text);
        Assert.Contains($":{line}:", e.Message);
    }

    [Fact]
    public void Skip_bad_rows_counts_and_reports_them()
    {
        string path = _dir.Write("p.csv", "u,t,w\n1,2,3\nbad,row,here\n4,5,6\n7,x,1\n");
        var data = new DelimitedFileReader(path, skipBadRows: true).Read();
        Assert.Equal([(1L, 2L, 3f), (4L, 5L, 6f)], Rows(data));
        Assert.Equal(2, data.SkippedRows);
        Assert.Equal(2, data.SkippedExamples!.Count);
        Assert.StartsWith("line 3:", data.SkippedExamples[0]);
        Assert.StartsWith("line 5:", data.SkippedExamples[1]);
    }

    [Fact]
    public void Rows_longer_than_the_read_buffer_and_spanning_chunks_parse()
    {
        var lines = Enumerable.Range(0, 300_000).Select(i => $"{i % 977}\t{i}\t{i % 7 + 1}");
        string path = _dir.Write("big.tsv", string.Join("\n", lines));
        var data = new DelimitedFileReader(path).Read();
        Assert.Equal(300_000, data.Table.Count);
        Assert.Equal(299_999, data.Table.Items[^1]);
        Assert.Equal(299_999 % 977, data.Table.Users[^1]);
    }

    [Fact]
    public void Empty_file_gives_no_rows_and_missing_file_names_the_path()
    {
        Assert.Equal(0, new DelimitedFileReader(_dir.Write("empty.csv", "")).Read().Table.Count);
        var e = Assert.Throws<FileNotFoundException>(() => new DelimitedFileReader(_dir.File("nope.csv")).Read());
        Assert.Contains("nope.csv", e.Message);
    }

    [Fact]
    public void A_generic_file_with_more_than_three_columns_is_refused_not_trimmed()
    {
        string path = _dir.Write("ratings4.csv", "1,2,5,881250949\n1,3,4,881250950\n");
        var e = Assert.Throws<DataFormatException>(() => new DelimitedFileReader(path).Read());
        Assert.Contains(":1: 4 fields: a csv file has user_id, track_id and an optional weight", e.Message);
    }

    [Fact]
    public void A_generic_two_column_file_refuses_a_third_field_later()
    {
        string path = _dir.Write("plays.csv", "1,2\n1,3,7\n");
        Assert.Contains(":2: unexpected extra field (3 fields; rows of this file have 2)", Assert.Throws<DataFormatException>(() => new DelimitedFileReader(path).Read()).Message);
    }

    [Fact]
    public void Unknown_format_name_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => DelimitedLayout.ParseFormat("parquet"));
        Assert.Contains("parquet", e.Message);
    }
}
