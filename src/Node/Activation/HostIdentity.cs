using KmsCluster.Node.Persistence;

namespace KmsCluster.Node.Activation;

/// <summary>Who this node is on the wire: a stable id kept in the data directory and a display name.</summary>
public sealed record HostIdentity(Guid Id, string Name)
{
    public static HostIdentity LoadOrCreate(DataDirectory data, string name) => new(data.LoadOrCreateNodeId(), name);
}
