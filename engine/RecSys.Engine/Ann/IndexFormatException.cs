namespace RecSys.Engine.Ann;

/// <summary>An index file that must not be used (corrupt, another version, or built from other factors).</summary>
public sealed class IndexFormatException : Exception
{
    public IndexFormatException(string message) : base(message) { }
    public IndexFormatException(string message, Exception inner) : base(message, inner) { }
    public IndexFormatException() : base("invalid index file") { }
}
