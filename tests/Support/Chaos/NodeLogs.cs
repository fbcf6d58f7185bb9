namespace KmsCluster.Testing.Chaos;

/// <summary>Keeps every node process's output in the run's directory (node0.log...): a node started again is a new
/// process, so the old one's output is appended before it is replaced.</summary>
public sealed class NodeLogs(LocalCluster cluster, string directory)
{
    public async Task SaveAsync(int index)
    {
        if (cluster.Nodes[index] is not { } node) return;
        await File.AppendAllTextAsync(Path.Combine(directory, $"node{index}.log"),
            $"=== process {node.ProcessId}, exit {node.ExitCode?.ToString() ?? "running"}\n{node.Output}\n");
    }

    public async Task SaveAllAsync()
    {
        for (var i = 0; i < cluster.Nodes.Length; i++) await SaveAsync(i);
    }
}
