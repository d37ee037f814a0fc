namespace RecSys.Server.Events;

/// <summary>What became of an accepted batch: events stored now, and events stored before (retries).</summary>
public readonly record struct IngestResult(int Stored, int Duplicates);
