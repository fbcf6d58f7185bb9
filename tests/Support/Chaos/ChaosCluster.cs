namespace KmsCluster.Testing.Chaos;

/// <summary>
/// The chaos run's cluster: a private PostgreSQL server and the nodes on it. With partitions, every node runs in a
/// network namespace of its own (<see cref="NetworkLab"/>), so two nodes can be cut off from each other while the
/// clients and the database still reach both; without, every node runs on loopback and partitions are skipped.
/// </summary>
public sealed class ChaosCluster : IAsyncDisposable
{
    private readonly NetworkLab? _lab;

    private ChaosCluster(NetworkLab? lab, PostgresServer database) => (_lab, Database) = (lab, database);

    public PostgresServer Database { get; }

    public LocalCluster Cluster { get; private set; } = null!;

    /// <summary>Cuts between nodes, or null when the nodes share loopback.</summary>
    public IPartitioner? Partitioner { get; private set; }

    /// <param name="everyNodeASeed">Give every node every other node as a seed, not only the first two (the harness's
    /// default): a first seed started again then finds any survivor instead of forming a second cluster.</param>
    public static async Task<ChaosCluster> StartAsync(string database, int nodes, bool partitions, bool everyNodeASeed = false)
    {
        var lab = partitions ? await NetworkLab.CreateAsync(nodes) : null;
        PostgresServer? server = null;
        LocalCluster? cluster = null;
        try
        {
            server = await PostgresServer.StartAsync(lab);
            var chaos = new ChaosCluster(lab, server);
            // LocalCluster names the first two nodes as seeds; the others are added here, once their ports are known.
            string[] MoreSeeds(int _) => everyNodeASeed
                ? [.. Enumerable.Range(2, nodes - 2).SelectMany(j => new[] { "--seed", $"{cluster!.NetworkOf(j).Address}:{cluster.ClusterPorts[j]}" })]
                : [];
            cluster = await LocalCluster.StartAsync(server, database, nodes, null, MoreSeeds, started: 0, network: lab);
            chaos.Cluster = cluster;
            for (var i = 0; i < nodes; i++) await cluster.StartNodeAsync(i);
            chaos.Partitioner = lab is null ? null : new ClusterPartitioner(chaos.Cluster);
            return chaos;
        }
        catch
        {
            if (cluster is not null) await cluster.DisposeAsync();
            if (server is not null) await server.DisposeAsync();
            if (lab is not null) await lab.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Cluster is not null) await Cluster.DisposeAsync();
        await Database.DisposeAsync();
        if (_lab is not null) await _lab.DisposeAsync();
    }

    private sealed class ClusterPartitioner(LocalCluster cluster) : IPartitioner
    {
        public Task PartitionAsync(int node, int other) => cluster.PartitionAsync(node, other);

        public Task HealAsync() => cluster.HealAsync();
    }
}
