using System.Globalization;
using System.Text;

namespace RecSys.Engine.Data;

/// <summary>
/// Reads "user, track[, weight]" rows from a delimited file. Works on raw UTF-8 bytes in large
/// chunks (no string per line) so it parses several million rows per second; LF and CRLF both end a line.
/// A malformed row throws <see cref="DataFormatException"/> naming file, line and text, or is counted and
/// skipped when <c>skipBadRows</c> is set. Blank lines carry no data and are ignored.
/// </summary>
public sealed class DelimitedFileReader
{
    private const int ChunkSize = 1 << 20;
    private const int MaxExamples = 5;

    private readonly string _path;
    private readonly DelimitedFormat _format;
    private readonly bool _skipBadRows;

    public DelimitedFileReader(string path, DelimitedFormat format = DelimitedFormat.Auto, bool skipBadRows = false)
    {
        _path = path;
        _format = format;
        _skipBadRows = skipBadRows;
    }

    /// <summary>The layout chosen for the file, known after <see cref="Read"/>.</summary>
    public DelimitedLayout Layout { get; private set; }

    public InteractionData Read(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(_path))
        {
            throw new FileNotFoundException($"Input file not found: {_path}", _path);
        }

        using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        long length = stream.Length;
        var table = new InteractionTable((int)Math.Clamp(length / 12, 1024, Array.MaxLength));
        var state = new ParseState(_path, _skipBadRows);

        byte[] buffer = new byte[ChunkSize];
        int carried = 0;
        bool first = true;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int read = stream.Read(buffer, carried, buffer.Length - carried);
            int available = carried + read;
            bool atEnd = read == 0;
            if (available == 0)
            {
                break;
            }

            ReadOnlySpan<byte> data = buffer.AsSpan(0, available);
            int consumed = 0;
            while (true)
            {
                int newline = data[consumed..].IndexOf((byte)'\n');
                ReadOnlySpan<byte> line;
                if (newline >= 0)
                {
                    line = data.Slice(consumed, newline);
                    consumed += newline + 1;
                }
                else if (atEnd)
                {
                    line = data[consumed..];
                    consumed = available;
                }
                else
                {
                    break;
                }

                if (!line.IsEmpty && line[^1] == (byte)'\r')
                {
                    line = line[..^1];
                }
                state.LineNumber++;
                if (first)
                {
                    if (IsBlank(line))
                    {
                        continue;
                    }
                    first = false;
                    line = StripBom(line);
                    Layout = DelimitedLayout.Detect(_format, _path, line);
                    if (Layout.Format is DelimitedFormat.Csv or DelimitedFormat.Tsv && Layout.Fields > 3)
                    {
                        // Which column would be the weight is a guess; so is dropping the others.
                        throw new DataFormatException(_path, state.LineNumber,
                            $"{Layout.Fields} fields: a {Layout.Format.ToString().ToLowerInvariant()} file has user_id, track_id and an optional weight " +
                            "(MovieLens files with timestamps: --format movielens or movielens-csv)", Encoding.UTF8.GetString(line));
                    }
                    state.Layout = Layout;
                    if (Layout.HasHeader)
                    {
                        continue;
                    }
                }
                state.ParseRow(line, table);
                if (consumed == available)
                {
                    break;
                }
            }

            if (atEnd)
            {
                break;
            }
            carried = available - consumed;
            if (carried == buffer.Length)
            {
                // One line longer than the whole buffer: grow instead of failing on long header lines.
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            buffer.AsSpan(consumed, carried).CopyTo(buffer);
        }

        if (first)
        {
            Layout = DelimitedLayout.Detect(_format, _path, default);
        }
        return new InteractionData(table, _path, state.Skipped, state.Examples);
    }

    private static ReadOnlySpan<byte> StripBom(ReadOnlySpan<byte> line) =>
        line.StartsWith("\uFEFF"u8) ? line[3..] : line;

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.Trim((byte)' ').Trim((byte)'\t').IsEmpty;

    private sealed class ParseState(string path, bool skipBadRows)
    {
        public long LineNumber;
        public long Skipped;
        public List<string> Examples { get; } = [];
        public DelimitedLayout Layout;

        public void ParseRow(ReadOnlySpan<byte> line, InteractionTable table)
        {
            string? problem = TryParseRow(line, out long user, out long item, out float weight);
            if (problem is null)
            {
                table.Add(user, item, weight);
                return;
            }
            if (problem.Length == 0)
            {
                return; // blank line
            }
            string text = Encoding.UTF8.GetString(line);
            if (!skipBadRows)
            {
                throw new DataFormatException(path, LineNumber, problem, text);
            }
            Skipped++;
            if (Examples.Count < MaxExamples)
            {
                Examples.Add($"line {LineNumber}: {problem}: \"{DataFormatException.Truncate(text)}\"");
            }
        }

        /// <returns>null on success, "" for a blank line, otherwise the problem.</returns>
        private string? TryParseRow(ReadOnlySpan<byte> line, out long user, out long item, out float weight)
        {
            user = item = 0;
            weight = 1f;
            if (IsBlank(line))
            {
                return "";
            }
            if (line.Contains((byte)0))
            {
                return "the line contains a NUL byte (a binary or damaged file?)";
            }
            byte delimiter = Layout.Delimiter;
            int fields = line.Count(delimiter) + 1;
            if (fields > Layout.Fields)
            {
                return $"unexpected extra field ({fields} fields; rows of this file have {Layout.Fields})";
            }

            int end = line.IndexOf(delimiter);
            if (end < 0)
            {
                return "expected at least 2 fields (user_id, track_id)";
            }
            if (!TryParseId(line[..end], out user))
            {
                return "user_id is not an integer";
            }
            if (user < 0)
            {
                // The API refuses negative ids, so such a user could never be asked for.
                return "user_id must be >= 0";
            }
            line = line[(end + 1)..];

            end = line.IndexOf(delimiter);
            ReadOnlySpan<byte> itemField = end < 0 ? line : line[..end];
            if (!TryParseId(itemField, out item))
            {
                return "track_id is not an integer";
            }
            if (item < 0)
            {
                return "track_id must be >= 0";
            }
            if (!Layout.HasWeight)
            {
                return null;
            }
            if (end < 0)
            {
                return "missing weight field";
            }
            line = line[(end + 1)..];
            end = line.IndexOf(delimiter);
            ReadOnlySpan<byte> weightField = (end < 0 ? line : line[..end]).Trim((byte)' ');
            if (!TryParseWeight(weightField, out weight))
            {
                return "weight is not a number";
            }
            if (!float.IsFinite(weight) || weight <= 0)
            {
                // A weight of 0 is no interaction, yet would train as one with confidence 1.
                return "weight must be a finite number > 0";
            }
            return null;
        }
    }

    /// <summary>Parses an int64 with an optional sign and surrounding spaces; rejects overflow.</summary>
    internal static bool TryParseId(ReadOnlySpan<byte> field, out long value)
    {
        field = field.Trim((byte)' ');
        value = 0;
        if (field.IsEmpty || field.Length > 19)
        {
            return field.Length > 19 && long.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
        }
        bool negative = false;
        int i = 0;
        if (field[0] == (byte)'-' || field[0] == (byte)'+')
        {
            negative = field[0] == (byte)'-';
            i = 1;
            if (field.Length == 1)
            {
                return false;
            }
        }
        ulong acc = 0;
        for (; i < field.Length; i++)
        {
            uint digit = (uint)(field[i] - (byte)'0');
            if (digit > 9)
            {
                return false;
            }
            acc = acc * 10 + digit;
        }
        // 19 digits can exceed long.MaxValue; the sign bit catches it.
        if (acc > (negative ? 9223372036854775808UL : long.MaxValue))
        {
            return false;
        }
        value = negative ? (long)(0 - acc) : (long)acc;
        return true;
    }

    internal static bool TryParseWeight(ReadOnlySpan<byte> field, out float value)
    {
        if (field.Length is > 0 and <= 9)
        {
            uint acc = 0;
            bool digits = true;
            foreach (byte b in field)
            {
                uint digit = (uint)(b - (byte)'0');
                if (digit > 9)
                {
                    digits = false;
                    break;
                }
                acc = acc * 10 + digit;
            }
            if (digits)
            {
                value = acc;
                return true;
            }
        }
        return float.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
