namespace RecSys.Server.Configuration;

/// <summary>
/// Replicas that act as one service (RecSys:Cluster:*; docs/scaling.md). With a database configured,
/// the model registry (current version, promotion history, manifests) and the training lock live in
/// it, and every replica follows the current version; without one, a server is a single node.
/// </summary>
public sealed class ClusterOptions
{
    /// <summary>With a database: keep the model registry there and follow it (off: the store's files, one node).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>This replica's name in /model and the training history; empty: the host name and the port.</summary>
    public string? Node { get; set; }

    /// <summary>
    /// Milliseconds between checks of the registry's current version besides its notifications: the
    /// bound on how late a replica learns of a promotion whose notification it missed (a reconnect).
    /// </summary>
    public int PollMilliseconds { get; set; } = 2000;

    public IEnumerable<string> Validate()
    {
        if (PollMilliseconds is < 100 or > 600_000) yield return $"RecSys:Cluster:PollMilliseconds must be within 100–600000 (got {PollMilliseconds})";
        if (Node is { Length: > 200 }) yield return "RecSys:Cluster:Node must be at most 200 characters";
    }

    /// <summary>The configured name, or host:port (two replicas on one host differ by port; port 0 falls back to the process id).</summary>
    public string NodeName(int port) =>
        !string.IsNullOrWhiteSpace(Node) ? Node.Trim() : $"{Environment.MachineName}:{(port != 0 ? port : Environment.ProcessId)}";
}
