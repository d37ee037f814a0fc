namespace RecSys.Server.Cluster;

/// <summary>This server as one replica: its name, and with a shared database the one-trainer lock (null: a single node).</summary>
public sealed class ClusterNode(string name, ClusterTrainings? trainings)
{
    public string Name => name;

    public ClusterTrainings? Trainings => trainings;
}
