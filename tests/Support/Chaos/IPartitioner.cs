namespace KmsCluster.Testing.Chaos;

/// <summary>Cuts the network between two nodes (both ways) and heals every cut: network namespaces, or anything else
/// that makes the nodes unable to reach each other while clients and the database still reach both.</summary>
public interface IPartitioner
{
    Task PartitionAsync(int node, int other);

    Task HealAsync();
}
