namespace RecSys.Engine.Data;

/// <summary>The delimited interaction file formats RecSys reads.</summary>
public enum DelimitedFormat
{
    /// <summary>Detect from the file name and first line.</summary>
    Auto,
    /// <summary>Last.fm HetRec user_artists.dat: tab, header "userID artistID weight".</summary>
    Lastfm,
    /// <summary>MovieLens 100K u.data: tab, no header, "user item rating timestamp".</summary>
    MovieLens,
    /// <summary>MovieLens ratings.csv: comma, header "userId,movieId,rating,timestamp".</summary>
    MovieLensCsv,
    /// <summary>Generic comma separated "user_id,track_id[,weight]", header optional.</summary>
    Csv,
    /// <summary>Generic tab separated "user_id track_id [weight]", header optional.</summary>
    Tsv,
}

/// <summary>
/// How to read a delimited file: what separates fields, whether line 1 is a header, whether the third
/// column is a weight, and how many fields every row has (a row with more or fewer is malformed, not
/// trimmed: MovieLens rows end with a timestamp, a generic file has 2 or 3 columns).
/// </summary>
public readonly record struct DelimitedLayout(DelimitedFormat Format, byte Delimiter, bool HasHeader, bool HasWeight, int Fields)
{
    public static DelimitedFormat ParseFormat(string name) => name.Trim().ToLowerInvariant() switch
    {
        "auto" => DelimitedFormat.Auto,
        "lastfm" or "hetrec" => DelimitedFormat.Lastfm,
        "movielens" or "udata" or "u.data" => DelimitedFormat.MovieLens,
        "movielens-csv" or "ratings.csv" => DelimitedFormat.MovieLensCsv,
        "csv" => DelimitedFormat.Csv,
        "tsv" => DelimitedFormat.Tsv,
        _ => throw new ArgumentException(
            $"Unknown format '{name}'. Known formats: auto, lastfm, movielens, movielens-csv, csv, tsv."),
    };

    /// <summary>
    /// Chooses the layout from the forced format, the file name and the first non-empty line.
    /// A first line whose first field is not a number is a header, whatever its column names.
    /// </summary>
    public static DelimitedLayout Detect(DelimitedFormat format, string path, ReadOnlySpan<byte> firstLine)
    {
        string name = Path.GetFileName(path).ToLowerInvariant();
        if (format == DelimitedFormat.Auto)
        {
            format = name switch
            {
                "user_artists.dat" => DelimitedFormat.Lastfm,
                "u.data" => DelimitedFormat.MovieLens,
                "ratings.csv" => DelimitedFormat.MovieLensCsv,
                _ => DelimitedFormat.Auto,
            };
        }

        byte delimiter = format switch
        {
            DelimitedFormat.Lastfm or DelimitedFormat.MovieLens or DelimitedFormat.Tsv => (byte)'\t',
            DelimitedFormat.MovieLensCsv or DelimitedFormat.Csv => (byte)',',
            _ => firstLine.Contains((byte)'\t') ? (byte)'\t' : firstLine.Contains((byte)',') ? (byte)',' : (byte)'\t',
        };
        if (format == DelimitedFormat.Auto)
        {
            format = delimiter == (byte)'\t' ? DelimitedFormat.Tsv : DelimitedFormat.Csv;
        }

        bool header = format switch
        {
            DelimitedFormat.Lastfm or DelimitedFormat.MovieLensCsv => true,
            DelimitedFormat.MovieLens => false,
            _ => LooksLikeHeader(firstLine, delimiter),
        };

        int columns = firstLine.IsEmpty ? 3 : firstLine.Count(delimiter) + 1;
        int fields = format switch
        {
            DelimitedFormat.Lastfm => 3,
            DelimitedFormat.MovieLens or DelimitedFormat.MovieLensCsv => 4,
            _ => columns,
        };
        bool weight = format is DelimitedFormat.Lastfm or DelimitedFormat.MovieLens or DelimitedFormat.MovieLensCsv || columns >= 3;
        return new DelimitedLayout(format, delimiter, header, weight, fields);
    }

    private static bool LooksLikeHeader(ReadOnlySpan<byte> line, byte delimiter)
    {
        int end = line.IndexOf(delimiter);
        ReadOnlySpan<byte> first = (end < 0 ? line : line[..end]).Trim((byte)' ');
        if (first.Length >= 3 && first[0] == 0xEF && first[1] == 0xBB && first[2] == 0xBF)
        {
            first = first[3..];
        }
        return !long.TryParse(first, out _);
    }
}
