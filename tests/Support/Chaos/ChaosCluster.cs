namespace KmsCluster.Testing.Chaos;

/// <summary>Starts the chaos run's cluster, and says how to partition it (null: it cannot be partitioned).</summary>
public static class ChaosCluster
{
    public static async Task<(LocalCluster Cluster, IPartitioner? Partitioner)> StartAsync(PostgresServer database,
        string name, int nodes) =>
        (await LocalCluster.StartAsync(database, name, nodes), null);
}
