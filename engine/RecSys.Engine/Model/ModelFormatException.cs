namespace RecSys.Engine.Model;

/// <summary>A model file that cannot be used: names the file, the entry and the problem.</summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string message) : base(message) { }
    public ModelFormatException(string message, Exception inner) : base(message, inner) { }
    public ModelFormatException() : base("invalid model file") { }
}
