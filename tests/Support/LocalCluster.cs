using System.Text.Json;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Testing;

/// <summary>
/// N real kms-node processes on loopback sharing one PostgreSQL database: a cluster as an operator runs it,
/// for the process-level cluster tests and the benchmarks. Node i keeps its index when it is restarted.
/// With a <see cref="NetworkLab"/>, node i runs in the lab's namespace i on its address instead (also after a
/// restart), and <see cref="PartitionAsync"/> cuts nodes off from each other.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly TempDirectory _data = new();
    private readonly Func<int, string[]> _nodeArgs;
    private bool _bootstrapped;

    private LocalCluster(string connectionString, int size, string splitBrain, Func<int, string[]> nodeArgs, NetworkLab? lab = null)
    {
        if (lab is not null && lab.NodeAddresses.Count < size)
        {
            throw new ArgumentException($"the network lab has {lab.NodeAddresses.Count} namespaces for {size} nodes", nameof(lab));
        }
        Lab = lab;
        ConnectionString = connectionString;
        ClusterPorts = FreePorts.Take(size);
        SplitBrain = splitBrain;
        _nodeArgs = nodeArgs;
        Nodes = new NodeProcess?[size];
    }

    public string ConnectionString { get; }

    /// <summary>The lab whose namespaces the nodes run in; null: every node on 127.0.0.1.</summary>
    public NetworkLab? Lab { get; }

    /// <summary>Node i's cluster (remoting) port; the first two nodes are the seeds.</summary>
    public int[] ClusterPorts { get; }

    public string SplitBrain { get; }

    /// <summary>Node i, or null while it is not started.</summary>
    public NodeProcess?[] Nodes { get; }

    /// <summary>The nodes whose process runs.</summary>
    public IReadOnlyList<NodeProcess> Running => Nodes.Where(n => n is { HasExited: false }).Cast<NodeProcess>().ToList();

    /// <summary>Creates database <paramref name="database"/> and starts <paramref name="size"/> nodes on it,
    /// one after the other, each serving before the next starts (the first one is the oldest).</summary>
    public static Task<LocalCluster> StartAsync(PostgresServer server, string database, int size,
        string? splitBrain = null, params string[] extraArgs) =>
        StartAsync(server, database, size, splitBrain, _ => extraArgs);

    /// <summary>As above, with arguments of each node's own (<paramref name="nodeArgs"/> of its index), e.g. its
    /// certificate; only the first <paramref name="started"/> nodes (default all), the others left to
    /// <see cref="StartNodeAsync"/> (a node added to a running cluster). With a <paramref name="network"/>, node i
    /// runs in its namespace i and reaches <paramref name="server"/> (started with the same lab) at its bridge.</summary>
    public static async Task<LocalCluster> StartAsync(PostgresServer server, string database, int size,
        string? splitBrain, Func<int, string[]> nodeArgs, int? started = null, NetworkLab? network = null)
    {
        await server.CreateDatabaseAsync(database);
        var connectionString = network is null ? server.ConnectionString(database) : server.ConnectionString(database, network.HostAddress);
        var cluster = new LocalCluster(connectionString, size, splitBrain ?? "auto", nodeArgs, network);
        try
        {
            for (var i = 0; i < (started ?? size); i++)
            {
                await cluster.StartNodeAsync(i);
            }
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>
    /// Creates database <paramref name="database"/> and starts <paramref name="size"/> nodes on it all at once,
    /// without seeds (only the database and split brain flags of <see cref="JoinArgs"/>): nodes that find each
    /// other themselves (--discovery, in <paramref name="nodeArgs"/>). Returns once every node serves.
    /// </summary>
    public static async Task<LocalCluster> StartBootstrappedAsync(PostgresServer server, string database, int size,
        Func<int, string[]> nodeArgs)
    {
        await server.CreateDatabaseAsync(database);
        var cluster = new LocalCluster(server.ConnectionString(database), size, "auto", nodeArgs) { _bootstrapped = true };
        try
        {
            // None can serve before the others answer its bootstrap's probes: start them all, then wait.
            var started = await Task.WhenAll(Enumerable.Range(0, size).Select(cluster.StartBoundNodeAsync));
            await Task.WhenAll(started.Select(node => node.WaitUntilServingAsync()));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Starts (or restarts) node <paramref name="index"/> with its own data directory.</summary>
    public async Task<NodeProcess> StartNodeAsync(int index)
    {
        if (Nodes[index] is { } previous)
        {
            // Out of the array first: a start that fails must leave no disposed process behind for Running to ask.
            Nodes[index] = null;
            await previous.DisposeAsync();
        }
        var node = await NodeProcess.StartAsync(NetworkOf(index), DataDirectory(index), NodeArgs(index));
        Nodes[index] = node;
        return node;
    }

    /// <summary>Starts node <paramref name="index"/> and returns once its endpoints are bound; it is in
    /// <see cref="Nodes"/> from then on, so disposing the cluster stops it whatever happens next.</summary>
    private async Task<NodeProcess> StartBoundNodeAsync(int index)
    {
        var node = await NodeProcess.StartBoundAsync(NetworkOf(index), DataDirectory(index), NodeArgs(index));
        Nodes[index] = node;
        return node;
    }

    private string DataDirectory(int index) => Path.Combine(_data.Path, $"node{index}");

    /// <summary>Node i's address and namespace: the lab's, or loopback.</summary>
    public NodeNetwork NetworkOf(int index) => Lab is null ? NodeNetwork.Loopback : NodeNetwork.In(Lab, index);

    private string[] NodeArgs(int index) =>
    [
        "--name", $"node{index}", "--cluster-port", ClusterPorts[index].ToString(),
        .. _bootstrapped ? DatabaseArgs : JoinArgsOf(index), .. _nodeArgs(index),
    ];

    /// <summary>What node <paramref name="index"/> starts with: the nodes running now as its first seeds, then the
    /// cluster's seeds. A node that is not its own first seed never forms a cluster alone, so a restarted node joins
    /// the members that are there, even when both seeds are down (the first seed, restarted while only a third node
    /// lived, would otherwise form a second cluster on the same database). With no node running, node 0 is its own
    /// first seed and starts the cluster.</summary>
    private string[] JoinArgsOf(int index)
    {
        var running = Enumerable.Range(0, Nodes.Length).Where(i => i != index && Nodes[i] is { HasExited: false });
        var seeds = running.Concat(Enumerable.Range(0, Math.Min(2, ClusterPorts.Length))).Distinct();
        return [.. seeds.SelectMany(i => new[] { "--seed", SeedOf(i) }), .. DatabaseArgs];
    }

    private string SeedOf(int index) => $"{NetworkOf(index).Address}:{ClusterPorts[index]}";

    /// <summary>What a node needs to join this cluster: the seeds (the first two nodes), the database and the split
    /// brain strategy.</summary>
    public string[] JoinArgs =>
    [
        .. Enumerable.Range(0, Math.Min(2, ClusterPorts.Length)).SelectMany(i => new[] { "--seed", SeedOf(i) }),
        .. DatabaseArgs,
    ];

    /// <summary>The database and split brain flags every node of this cluster has, seeds or not.</summary>
    public string[] DatabaseArgs => ["--db", ConnectionString, "--split-brain", SplitBrain];

    /// <summary>Drops every packet between nodes <paramref name="node"/> and <paramref name="other"/>, both ways (see
    /// <see cref="NetworkLab.PartitionAsync"/>); clients and the database still reach both. Needs a lab.</summary>
    public Task PartitionAsync(int node, int other) => RequireLab().PartitionAsync(node, other);

    /// <summary>Removes every cut <see cref="PartitionAsync"/> made.</summary>
    public Task HealAsync() => RequireLab().HealAsync();

    private NetworkLab RequireLab() => Lab ?? throw new InvalidOperationException(
        "this cluster runs on loopback: start it with a NetworkLab (LocalCluster.StartAsync(..., network: lab)) to partition it");

    /// <summary>The index of the node with this cluster address (akka.tcp://NAME@127.0.0.1:PORT).</summary>
    public int IndexOf(string clusterAddress) =>
        Array.IndexOf(ClusterPorts, int.Parse(clusterAddress[(clusterAddress.LastIndexOf(':') + 1)..]));

    /// <summary>Asks a running node's admin API for the cluster view.</summary>
    public async Task<ClusterJson> ClusterViewAsync(NodeProcess? via = null)
    {
        using var admin = new AdminClient(via ?? Running.FirstOrDefault() ?? throw new InvalidOperationException("no node is running"));
        return await admin.ClusterAsync();
    }

    /// <summary>Waits until every running node is an Up member (as <paramref name="via"/> sees it) and the
    /// window of <paramref name="application"/> has an owner; returns the owner's index.</summary>
    public async Task<int> OwnerIndexAsync(string application, TimeSpan timeout, NodeProcess? via = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var view = await ClusterViewAsync(via);
                var up = view.Members.Count(m => m.Status == "Up");
                var owner = view.Windows.Single(w => w.Application == application).Owner;
                if (up == Running.Count && owner is not null)
                {
                    return IndexOf(owner);
                }
                last = JsonSerializer.Serialize(view, AdminJson.Http.ClusterJson);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
                last = e.Message;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"the cluster did not settle with an owner for {application} within {timeout.TotalSeconds:0} s; last view: {last}");
    }

    /// <summary>Each node's last output lines, for a failed test's message: a cluster failure is only
    /// understandable from the nodes' own logs.</summary>
    public string DescribeNodes(int lines = 60) => string.Join("\n", Nodes.Select((node, i) => node is null
        ? $"--- node{i}: not started"
        : $"--- node{i} (exit {node.ExitCode?.ToString() ?? "running"}):\n{string.Join('\n', node.Output.Split('\n').TakeLast(lines))}"));

    /// <summary>Runs a test body; when it fails, the exception carries every node's recent log.</summary>
    public async Task RunAsync(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch (Exception e) when (e is not ClusterTestFailure)
        {
            // The whole logs, too long for a message, go to files the message names.
            var directory = Path.Combine(Path.GetTempPath(), "kms-cluster-test-logs", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff"));
            Directory.CreateDirectory(directory);
            for (var i = 0; i < Nodes.Length; i++)
            {
                await File.WriteAllTextAsync(Path.Combine(directory, $"node{i}.log"), Nodes[i]?.Output ?? "");
            }
            throw new ClusterTestFailure($"{e.GetType().Name}: {e.Message}\nfull node logs: {directory}\n{DescribeNodes()}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            if (node is not null) await node.DisposeAsync();
        }
        _data.Dispose();
    }
}

/// <summary>A cluster test failed; the message holds the nodes' logs.</summary>
public sealed class ClusterTestFailure(string message, Exception inner) : Exception(message, inner);
