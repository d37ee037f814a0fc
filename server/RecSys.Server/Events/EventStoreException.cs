namespace RecSys.Server.Events;

/// <summary>The store refused or failed a batch; nothing of it was stored (the request answers 503 and may be retried).</summary>
public sealed class EventStoreException(string message, Exception inner) : Exception(message, inner);
