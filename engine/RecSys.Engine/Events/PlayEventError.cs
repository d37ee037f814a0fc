namespace RecSys.Engine.Events;

/// <summary>Why one event of a batch was refused: its position (and NDJSON line), the field, and the reason.</summary>
public readonly record struct PlayEventError(int Index, string Field, string Reason, int? Line = null);
