using RecSys.Server.Endpoints;

namespace RecSys.Server.Events;

/// <summary>Empties the response cache when event-made state changes what cached answers would be (a new track with factors).</summary>
public sealed class ResponseCacheClearer(ResponseCache cache)
{
    public void Clear() => cache.Clear();
}
