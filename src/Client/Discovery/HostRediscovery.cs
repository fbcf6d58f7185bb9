using KmsCluster.Client.Connection;

namespace KmsCluster.Client.Discovery;

/// <summary>
/// A discovering <see cref="KmsClient"/>'s look-ups after failures: like a KMS client it asks again when the host that
/// worked fails or every known host failed in a row. Look-ups start at most once per <see cref="Interval"/>; failures
/// meanwhile share the running one. A host that just failed goes to the end of the new list.
/// </summary>
internal sealed class HostRediscovery(IHostDiscovery discovery)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly object _gate = new();
    private Task _lookup = Task.CompletedTask;
    private long? _started;
    private long _count;

    public IHostDiscovery Discovery => discovery;

    /// <summary>Look-ups after failures (the first look-up not counted).</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Starts a look-up unless one runs or the last started less than <see cref="Interval"/> ago, and
    /// returns the one callers wait for. <paramref name="found"/> gets the new list (never empty).</summary>
    public Task LookUpAgainAsync(ServerAddress failed, Action<ServerAddress[]> found, CancellationToken stop)
    {
        lock (_gate)
        {
            var now = Environment.TickCount64;
            if (_lookup.IsCompleted && (_started is not { } started || now - started >= (long)Interval.TotalMilliseconds))
            {
                _started = now;
                _lookup = LookUpAsync(failed, found, stop);
            }
            return _lookup;
        }
    }

    private async Task LookUpAsync(ServerAddress failed, Action<ServerAddress[]> found, CancellationToken stop)
    {
        await Task.Yield();
        Interlocked.Increment(ref _count);
        IReadOnlyList<ServerAddress> servers;
        try
        {
            servers = await discovery.FindServersAsync(stop);
        }
        catch (Exception e) when (e is HostDiscoveryException or OperationCanceledException)
        {
            return; // The source is away too: keep going round the hosts already known.
        }
        if (servers.Count > 0)
        {
            // "Drop it and try the next": the host that just failed is tried last.
            found([.. servers.Where(s => s != failed), .. servers.Where(s => s == failed)]);
        }
    }
}
