using System.Globalization;
using System.Text;
using RecSys.Engine.Ann;
using RecSys.Server.Cli;

namespace RecSys.Tests.Cli;

/// <summary>The UTF-8 TSV writer against the text the invariant formatters give (the format before it), edge values included.</summary>
public sealed class RecommendationsTsvTests
{
    [Fact]
    public void Lines_are_what_the_invariant_formatters_write()
    {
        long[] users = [0, 1, -7, long.MaxValue, long.MinValue, 1_000_000_000_000_000_001];
        float[] scores = [0f, -0f, 1f, 0.1144685f, -3.25e-7f, 1e-5f, 123456789f, float.MaxValue, float.Epsilon, float.NaN, float.PositiveInfinity, float.NegativeInfinity];
        long[] trackIds = [5, -5, long.MaxValue, 42];
        var expected = new StringBuilder();
        using var stream = new MemoryStream();
        using (var writer = new RecommendationsTsv(stream))
        {
            foreach (long user in users)
            {
                var list = scores.Select((s, i) => new ScoredIndex(i % trackIds.Length, s)).ToArray();
                writer.Write(user, list, trackIds);
                foreach (var r in list)
                {
                    expected.Append(user.ToString(CultureInfo.InvariantCulture)).Append('\t')
                        .Append(trackIds[r.Index].ToString(CultureInfo.InvariantCulture)).Append('\t')
                        .Append(r.Score.ToString("G7", CultureInfo.InvariantCulture)).Append('\n');
                }
            }
        }
        Assert.Equal(expected.ToString(), Encoding.UTF8.GetString(stream.ToArray()));
    }

    [Fact]
    public void More_than_a_buffer_of_lines_arrives_whole_and_in_order()
    {
        using var stream = new MemoryStream();
        const int lines = 100_000; // ~3 MB: several flushes of the 1 MB buffer
        using (var writer = new RecommendationsTsv(stream))
        {
            for (int i = 0; i < lines; i++) writer.Write(i, long.MaxValue - i, i / 7f);
        }
        var text = Encoding.UTF8.GetString(stream.ToArray()).Split('\n');
        Assert.Equal(lines + 1, text.Length);
        for (int i = 0; i < lines; i += 9973)
        {
            Assert.Equal($"{i}\t{long.MaxValue - i}\t{(i / 7f).ToString("G7", CultureInfo.InvariantCulture)}", text[i]);
        }
    }
}
