using KmsCluster.Client.Connection;
using KmsCluster.Client.Discovery;

namespace KmsCluster.Testing.Chaos;

/// <summary>The hosts a client finds again after failures: the cluster's running nodes at the endpoints they report
/// now (a restarted node listens on a new port), as DNS would publish them.</summary>
public sealed class ClusterDiscovery(LocalCluster cluster) : IHostDiscovery
{
    public string Source => "the chaos cluster's running nodes";

    public Task<IReadOnlyList<ServerAddress>> FindServersAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<ServerAddress>>(Current(cluster));

    public static ServerAddress[] Current(LocalCluster cluster)
    {
        var servers = new List<ServerAddress>();
        foreach (var node in cluster.Nodes)
        {
            try
            {
                if (node is { HasExited: false, Ready.ActivationEndpoints.Count: > 0 }) servers.Add(ServerAddress.Parse(node.ActivationEndpoint));
            }
            catch (InvalidOperationException)
            {
                // Replaced by a restart while we looked: its process object is disposed.
            }
        }
        return [.. servers];
    }
}
