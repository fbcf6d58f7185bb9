using KmsCluster.Client.Discovery;

namespace KmsCluster.Client.Connection;

/// <summary>
/// The discovering side of <see cref="KmsClient"/>: a client made by <see cref="DiscoverAsync"/> takes its hosts from
/// the SRV records of <c>_vlmcs._tcp.DOMAIN</c> in RFC 2782 order and, like a KMS client, looks DNS up again when the
/// host that worked fails or when every known host failed in a row. A host that just failed goes to the end of the
/// new list; a host that is answering stays current.
/// </summary>
public sealed partial class KmsClient
{
    /// <summary>Look-ups start at most this often; more failures meanwhile share the last one's result.</summary>
    private static readonly TimeSpan LookupInterval = TimeSpan.FromSeconds(1);

    private readonly object _lookupGate = new();
    private SrvDiscovery? _discovery;
    private Task _lookup = Task.CompletedTask;
    private long? _lookupStarted;
    private long _lookups;

    /// <summary>Where this client finds its hosts; null for a client over a fixed list.</summary>
    public SrvDiscovery? Discovery => _discovery;

    /// <summary>How many times the client looked DNS up again after failures (the first look-up not counted).</summary>
    public long Rediscoveries => Interlocked.Read(ref _lookups);

    /// <summary>A client over the hosts published under <c>_vlmcs._tcp.DOMAIN</c>.</summary>
    /// <exception cref="KmsConnectionException">DNS did not answer, or no host is published there.</exception>
    public static async Task<KmsClient> DiscoverAsync(SrvDiscovery discovery, KmsClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(discovery);
        IReadOnlyList<ServerAddress> servers;
        try
        {
            servers = await discovery.FindServersAsync(cancellationToken);
        }
        catch (SrvDiscoveryException e)
        {
            throw new KmsConnectionException($"cannot discover KMS hosts: {e.Message}", e);
        }
        if (servers.Count == 0)
        {
            throw new KmsConnectionException($"no KMS host is published at {discovery.QueryName} (asked {discovery.ResolverName})");
        }
        return new KmsClient(servers, options) { _discovery = discovery };
    }

    /// <summary>A client over hosts already found with <paramref name="discovery"/> (in the order given), which looks
    /// DNS up again as <see cref="DiscoverAsync"/>'s clients do: many clients can share one first look-up.</summary>
    internal static KmsClient OverDiscoveredHosts(IReadOnlyList<ServerAddress> servers, SrvDiscovery discovery,
        KmsClientOptions? options = null) =>
        new(servers, options) { _discovery = discovery };

    /// <summary>After a failure: with discovery, look DNS up again when the failed host had worked or a whole round
    /// failed; callers wait for the look-up (their deadline still applies).</summary>
    private Task RediscoverAsync(ServerSlot failed, bool wholeRound, CancellationToken cancellationToken)
    {
        if (_discovery is null || !(wholeRound || failed.HasAnswered))
        {
            return Task.CompletedTask;
        }
        Task lookup;
        lock (_lookupGate)
        {
            var now = Environment.TickCount64;
            if (_lookup.IsCompleted && (_lookupStarted is not { } started || now - started >= (long)LookupInterval.TotalMilliseconds))
            {
                _lookupStarted = now;
                _lookup = LookUpAgainAsync(failed.Server);
            }
            lookup = _lookup;
        }
        return lookup.WaitAsync(cancellationToken);
    }

    private async Task LookUpAgainAsync(ServerAddress failed)
    {
        await Task.Yield();
        Interlocked.Increment(ref _lookups);
        IReadOnlyList<ServerAddress> found;
        try
        {
            found = await _discovery!.FindServersAsync(_disposed.Token);
        }
        catch (Exception e) when (e is SrvDiscoveryException or OperationCanceledException)
        {
            return; // DNS is away too: keep going round the hosts already known.
        }
        if (found.Count == 0)
        {
            return;
        }
        // "Drop it and try the next": the host that just failed is tried last.
        var servers = found.Where(s => s != failed).Concat(found.Where(s => s == failed)).ToArray();
        Volatile.Write(ref _servers, servers);
        var current = Volatile.Read(ref _current);
        if (!current.HasAnswered)
        {
            // Start the new list from its first choice; a host that answers meanwhile stays current.
            Replace(current, 0, abandon: false);
        }
    }
}
