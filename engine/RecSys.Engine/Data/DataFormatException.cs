namespace RecSys.Engine.Data;

/// <summary>A malformed input row: names the file, the 1-based line number and the offending text.</summary>
public sealed class DataFormatException : Exception
{
    public DataFormatException(string file, long line, string problem, string text)
        : base($"{file}:{line}: {problem}: \"{Truncate(text)}\"")
    {
        File = file;
        Line = line;
        Problem = problem;
        Text = text;
    }

    public DataFormatException(string message) : base(message)
    {
        File = "";
        Problem = message;
        Text = "";
    }

    public DataFormatException(string message, Exception inner) : base(message, inner)
    {
        File = "";
        Problem = message;
        Text = "";
    }

    public DataFormatException()
        : this("malformed input")
    {
    }

    public string File { get; }
    public long Line { get; }
    public string Problem { get; }
    public string Text { get; }

    internal static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
