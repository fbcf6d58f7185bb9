using System.Net;

namespace KmsCluster.Testing;

/// <summary>
/// A private network for one test run: a bridge in the root namespace with a /24 of its own (the bridge has .1)
/// and, per node, a network namespace with <c>lo</c> up and a veth into the bridge (node i has .10+i). A process
/// runs in node i's namespace through <see cref="ExecPrefix"/>; tests in the root namespace reach it at its
/// address. <see cref="PartitionAsync"/> cuts the traffic between two nodes with iptables inside their namespaces,
/// so what the nodes see is a real network partition: packets lost, connections silent, no error.
/// Needs root (CAP_NET_ADMIN), iproute2 and iptables; tests/run.sh installs the last two.
/// </summary>
public sealed class NetworkLab : IAsyncDisposable
{
    /// <summary>Every link and namespace a lab creates starts with this; a run that died leaves them behind, and the
    /// next lab removes them (<see cref="NetworkLabLeftovers"/>).</summary>
    internal const string Prefix = "kmsl";

    private readonly string _id;
    private readonly NetworkLabLock _lock;
    private readonly HashSet<(int, int)> _cuts = [];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _forwardRule;
    private bool _disposed;

    private NetworkLab(string id, NetworkLabLock owner, byte second, byte third, int nodes)
    {
        _id = id;
        _lock = owner;
        Subnet = $"10.{second}.{third}.0/24";
        HostAddress = $"10.{second}.{third}.1";
        NodeAddresses = Enumerable.Range(0, nodes).Select(i => $"10.{second}.{third}.{10 + i}").ToArray();
    }

    /// <summary>The lab's /24, e.g. 10.213.7.0/24.</summary>
    public string Subnet { get; }

    /// <summary>The bridge's address in the root namespace: where the nodes reach services of the test (PostgreSQL).</summary>
    public string HostAddress { get; }

    /// <summary>Node i's address, bound in its namespace.</summary>
    public IReadOnlyList<string> NodeAddresses { get; }

    /// <summary>The bridge's name (kmsl + run id).</summary>
    public string Bridge => Prefix + _id;

    /// <summary>Node i's network namespace.</summary>
    public string Namespace(int node) => $"{Prefix}{_id}n{node}";

    /// <summary>The command line that runs a program in node i's namespace: <c>ip netns exec NS</c>. ip execs the
    /// program, so the process id is the program's own and signals (kill, stop, continue) reach it.</summary>
    public IReadOnlyList<string> ExecPrefix(int node) => ["ip", "netns", "exec", Namespace(node)];

    /// <summary>The pairs of nodes cut off from each other now (lower index first).</summary>
    public IReadOnlyCollection<(int Node, int Other)> Cuts
    {
        get
        {
            lock (_cuts) return [.. _cuts];
        }
    }

    /// <summary>Creates the bridge and <paramref name="nodes"/> namespaces, after removing what labs of runs that
    /// died left behind. Throws <see cref="NetworkLabException"/> saying why when ip or iptables is missing or
    /// not permitted.</summary>
    public static async Task<NetworkLab> CreateAsync(int nodes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nodes, 200);
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("NetworkLab uses Linux network namespaces");
        await NetworkCommand.CheckToolsAsync();
        await NetworkLabLeftovers.RemoveAsync();

        var owner = NetworkLabLock.TakeNew();
        var (second, third) = await FreeSubnetAsync();
        var lab = new NetworkLab(owner.Id, owner, second, third, nodes);
        try
        {
            await lab.BuildAsync();
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
        return lab;
    }

    private async Task BuildAsync()
    {
        await NetworkCommand.IpAsync("link", "add", Bridge, "type", "bridge");
        await NetworkCommand.IpAsync("addr", "add", HostAddress + "/24", "dev", Bridge);
        await NetworkCommand.IpAsync("link", "set", Bridge, "up");
        // With br_netfilter loaded, frames between two ports of a bridge pass the root namespace's FORWARD chain,
        // whose policy a container runtime may have set to DROP: let the lab's own traffic through.
        if (await NetworkCommand.BridgeTrafficIsFilteredAsync())
        {
            await NetworkCommand.IptablesAsync(null, ["-I", .. ForwardRule]);
            _forwardRule = true;
        }
        for (var i = 0; i < NodeAddresses.Count; i++)
        {
            var ns = Namespace(i);
            var hostEnd = $"{Prefix}{_id}v{i}";
            var nodeEnd = $"{Prefix}{_id}p{i}";
            await NetworkCommand.IpAsync("netns", "add", ns);
            await NetworkCommand.IpAsync("link", "add", hostEnd, "type", "veth", "peer", "name", nodeEnd);
            await NetworkCommand.IpAsync("link", "set", nodeEnd, "netns", ns);
            await NetworkCommand.IpAsync("link", "set", hostEnd, "master", Bridge, "up");
            await NetworkCommand.IpAsync("-n", ns, "link", "set", nodeEnd, "name", "eth0");
            await NetworkCommand.IpAsync("-n", ns, "addr", "add", NodeAddresses[i] + "/24", "dev", "eth0");
            await NetworkCommand.IpAsync("-n", ns, "link", "set", "eth0", "up");
            await NetworkCommand.IpAsync("-n", ns, "link", "set", "lo", "up");
        }
    }

    /// <summary>FORWARD rule arguments after -I/-D; the comment names the lab so leftovers can be found.</summary>
    private string[] ForwardRule => ["FORWARD", "-i", Bridge, "-o", Bridge, "-j", "ACCEPT", "-m", "comment", "--comment", Bridge];

    /// <summary>Drops every packet between nodes <paramref name="node"/> and <paramref name="other"/>, both ways,
    /// in both namespaces. Each keeps its link to the bridge: the test and PostgreSQL still reach both.</summary>
    public async Task PartitionAsync(int node, int other)
    {
        CheckNode(node);
        CheckNode(other);
        if (node == other) throw new ArgumentException($"a node cannot be cut off from itself (node {node})", nameof(other));
        var pair = (Math.Min(node, other), Math.Max(node, other));
        await _gate.WaitAsync();
        try
        {
            lock (_cuts)
            {
                if (_cuts.Contains(pair)) return;
            }
            foreach (var (self, peer) in new[] { (node, other), (other, node) })
            {
                await NetworkCommand.IptablesAsync(Namespace(self), "-A", "INPUT", "-s", NodeAddresses[peer], "-j", "DROP");
                await NetworkCommand.IptablesAsync(Namespace(self), "-A", "OUTPUT", "-d", NodeAddresses[peer], "-j", "DROP");
            }
            lock (_cuts) _cuts.Add(pair);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Removes every cut: each namespace's INPUT and OUTPUT chains hold nothing else.</summary>
    public async Task HealAsync()
    {
        await _gate.WaitAsync();
        try
        {
            for (var i = 0; i < NodeAddresses.Count; i++)
            {
                await NetworkCommand.IptablesAsync(Namespace(i), "-F", "INPUT");
                await NetworkCommand.IptablesAsync(Namespace(i), "-F", "OUTPUT");
            }
            lock (_cuts) _cuts.Clear();
        }
        finally
        {
            _gate.Release();
        }
    }

    private void CheckNode(int node)
    {
        if (node < 0 || node >= NodeAddresses.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(node), node, $"the lab has nodes 0 to {NodeAddresses.Count - 1}");
        }
    }

    /// <summary>A random 10.200-254.x.0/24 that no address or route of this machine overlaps.</summary>
    private static async Task<(byte, byte)> FreeSubnetAsync()
    {
        var used = await NetworkCommand.UsedIpv4NetworksAsync();
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var second = (byte)Random.Shared.Next(200, 255);
            var third = (byte)Random.Shared.Next(0, 256);
            var candidate = new IPNetwork(new IPAddress([10, second, third, 0]), 24);
            if (!used.Any(network => Overlaps(network, candidate))) return (second, third);
        }
        throw new NetworkLabException("no free 10.200-254.x.0/24 for a network lab after 200 tries");
    }

    private static bool Overlaps(IPNetwork a, IPNetwork b) => a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress);

    /// <summary>Removes the namespaces (and the processes still in them), the links and the FORWARD rule; the
    /// cuts go with their namespaces. Safe after a failed test and a failed creation.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        var errors = new List<string>();
        for (var i = 0; i < NodeAddresses.Count; i++)
        {
            await Collect(errors, () => NetworkLabLeftovers.RemoveNamespaceAsync(Namespace(i)));
        }
        await Collect(errors, () => NetworkLabLeftovers.RemoveLinkAsync(Bridge));
        if (_forwardRule) await Collect(errors, () => NetworkCommand.IptablesAsync(null, ["-D", .. ForwardRule]));
        _lock.Release();
        _gate.Dispose();
        if (errors.Count > 0)
        {
            throw new NetworkLabException($"network lab {_id} was not removed completely (the next lab removes the rest):\n{string.Join('\n', errors)}");
        }
    }

    private static async Task Collect(List<string> errors, Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (NetworkLabException e)
        {
            errors.Add(e.Message);
        }
    }
}

/// <summary>A network lab could not be built, changed or removed; the message names the command and its error.</summary>
public sealed class NetworkLabException(string message, Exception? inner = null) : Exception(message, inner);
