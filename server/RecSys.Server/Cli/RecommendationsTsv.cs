using System.Buffers.Text;
using System.Globalization;
using RecSys.Engine.Ann;

namespace RecSys.Server.Cli;

/// <summary>
/// Writes <c>user_id\ttrack_id\tscore</c> lines (score as G7) straight into UTF-8 bytes: a million lines
/// of formatting through a TextWriter (a string per number, then an encoder) cost more than the ranking.
/// </summary>
internal sealed class RecommendationsTsv(Stream output) : IDisposable
{
    /// <summary>The longest line: two 20-character ids, a G7 float (at most 15 characters), two tabs and a newline.</summary>
    private const int LongestLine = 64;

    private readonly byte[] _buffer = new byte[1 << 20];
    private int _used;

    public void Write(long userId, long trackId, float score)
    {
        if (_buffer.Length - _used < LongestLine) Flush();
        var span = _buffer.AsSpan(_used);
        Utf8Formatter.TryFormat(userId, span, out int at);
        span[at++] = (byte)'\t';
        Utf8Formatter.TryFormat(trackId, span[at..], out int written);
        at += written;
        span[at++] = (byte)'\t';
        score.TryFormat(span[at..], out written, "G7", CultureInfo.InvariantCulture);
        at += written;
        span[at++] = (byte)'\n';
        _used += at;
    }

    public void Write(long userId, ReadOnlySpan<ScoredIndex> recommendations, long[] trackIds)
    {
        foreach (var r in recommendations) Write(userId, trackIds[r.Index], r.Score);
    }

    public void Flush()
    {
        output.Write(_buffer, 0, _used);
        _used = 0;
    }

    public void Dispose()
    {
        Flush();
        output.Flush();
    }
}
