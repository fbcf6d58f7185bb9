using KmsCluster.Client.Discovery;
using System.Collections.Concurrent;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Connection;

/// <summary>
/// A client over several KmsCluster hosts, as KMS clients behave: try a host, drop it on failure and pick
/// the next one (round robin); keep using a host that worked. All callers share one pipelined
/// <see cref="KmsConnection"/> to the current host, opened on demand. Thread-safe.
/// </summary>
/// <remarks>
/// A failure (the connection fails, no answer within <see cref="KmsClientOptions.RequestTimeout"/>, or a
/// retryable error) moves every caller to the next host. The move is a compare-and-swap on the current
/// <see cref="ServerSlot"/>: many callers failing on the same slot switch once, the others follow.
/// </remarks>
public sealed class KmsClient : IAsyncDisposable
{
    // Replaced as a whole when a discovering client finds its hosts again.
    private ServerAddress[] _servers;
    private readonly KmsClientOptions _options;
    private readonly CancellationTokenSource _disposed = new();
    // Every slot that may still hold a connection, so DisposeAsync closes slots still draining too.
    private readonly ConcurrentDictionary<ServerSlot, byte> _slots = new();
    private readonly HostRediscovery? _rediscovery;
    private ServerSlot _current;
    private long _failovers;

    /// <param name="servers">The hosts to try, in order.</param>
    /// <param name="discovery">Where <paramref name="servers"/> came from: the client asks it again when the host
    /// that worked fails or every host failed in a row (as a KMS client looks DNS up again); null for a fixed list.</param>
    public KmsClient(IReadOnlyList<ServerAddress> servers, KmsClientOptions? options = null, IHostDiscovery? discovery = null)
    {
        ArgumentNullException.ThrowIfNull(servers);
        if (servers.Count == 0)
        {
            throw new ArgumentException("a KmsClient needs at least one server", nameof(servers));
        }
        if (servers.Any(s => s is null))
        {
            throw new ArgumentException("servers must not contain null", nameof(servers));
        }
        _options = options ?? new KmsClientOptions();
        _options.Validate();
        _servers = [.. servers];
        _rediscovery = discovery is null ? null : new HostRediscovery(discovery);
        _current = NewSlot(0);
    }

    /// <summary>A client over the hosts <paramref name="discovery"/> finds now, which asks it again after failures.</summary>
    /// <exception cref="KmsConnectionException">the source did not answer, or no host is published there.</exception>
    public static async Task<KmsClient> DiscoverAsync(IHostDiscovery discovery, KmsClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(discovery);
        IReadOnlyList<ServerAddress> servers;
        try
        {
            servers = await discovery.FindServersAsync(cancellationToken);
        }
        catch (HostDiscoveryException e)
        {
            throw new KmsConnectionException($"cannot discover KMS hosts: {e.Message}", e);
        }
        if (servers.Count == 0)
        {
            throw new KmsConnectionException($"no KMS host is published at {discovery.Source}");
        }
        return new KmsClient(servers, options, discovery);
    }

    /// <summary>Where this client finds its hosts again; null for a client over a fixed list.</summary>
    public IHostDiscovery? Discovery => _rediscovery?.Discovery;

    /// <summary>How many times the client looked its hosts up again after failures (the first look-up not counted).</summary>
    public long Rediscoveries => _rediscovery?.Count ?? 0;

    public IReadOnlyList<ServerAddress> Servers => Array.AsReadOnly(Volatile.Read(ref _servers));

    public KmsClientOptions Options => _options;

    /// <summary>The server calls go to now: the last one that worked, or the next one to try.</summary>
    public ServerAddress CurrentServer => Volatile.Read(ref _current).Server;

    /// <summary>How many times the client moved to another server because of a failure.</summary>
    public long FailoverCount => Interlocked.Read(ref _failovers);

    /// <summary>The current server's connection was open and has closed since; for tests.</summary>
    internal bool CurrentConnectionClosed => Volatile.Read(ref _current).IsConnectionClosed;

    /// <summary>Raised once per switch, on the thread of the caller whose failure caused it; must not throw.</summary>
    public event EventHandler<KmsFailover>? FailedOver;

    /// <summary>Asks the current server, failing over until <see cref="KmsClientOptions.Deadline"/>.</summary>
    /// <returns>A response or a non-retryable error as the host sent it; at the deadline, the last retryable
    /// error if a host sent one.</returns>
    /// <exception cref="KmsConnectionException">no server answered before the deadline.</exception>
    public async Task<ActivationResult> ActivateAsync(ActivationRequest request, CancellationToken cancellationToken = default) =>
        (await RequestAsync(request, cancellationToken)).Result;

    /// <summary>Like <see cref="ActivateAsync"/>, and says which server gave the answer.</summary>
    /// <exception cref="KmsConnectionException">no server answered before the deadline.</exception>
    public Task<KmsAnswer> RequestAsync(ActivationRequest request, CancellationToken cancellationToken = default) =>
        RequestWithFailoverAsync(request, null, cancellationToken);

    /// <summary>Like <see cref="RequestAsync(ActivationRequest, CancellationToken)"/>, but each attempt opens a
    /// connection of its own through <paramref name="connectPerRequest"/> and closes it after the answer, as KMS
    /// clients do, instead of using the connection the client shares. Failover is the same. One call at a time per
    /// <paramref name="connectPerRequest"/>.</summary>
    /// <exception cref="KmsConnectionException">no server answered before the deadline.</exception>
    public Task<KmsAnswer> RequestOnOwnConnectionAsync(ActivationRequest request, ConnectPerRequestClient connectPerRequest,
        CancellationToken cancellationToken = default) =>
        RequestWithFailoverAsync(request, connectPerRequest ?? throw new ArgumentNullException(nameof(connectPerRequest)), cancellationToken);

    /// <summary>The longest server-busy hint a client waits (an hour): longer ones are a broken host.</summary>
    private const uint MaxRetryHintMilliseconds = 3_600_000;

    private async Task<KmsAnswer> RequestWithFailoverAsync(ActivationRequest request, ConnectPerRequestClient? connectPerRequest,
        CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        deadline.CancelAfter(_options.Deadline);
        var tried = new List<ServerAddress>();
        KmsAnswer? lastRetryable = null;
        Exception? lastFailure = null;
        var failures = 0;
        var retryHint = TimeSpan.Zero; // the longest retry-after of this round's retryable errors
        while (true)
        {
            var slot = AcquireCurrent();
            if (!tried.Contains(slot.Server))
            {
                tried.Add(slot.Server);
            }
            string reason;
            var abandon = true;
            try
            {
                ActivationResult result;
                if (connectPerRequest is null)
                {
                    var connection = await slot.ConnectAsync().WaitAsync(deadline.Token);
                    result = await connection.ActivateAsync(request, _options.RequestTimeout, deadline.Token);
                }
                else
                {
                    var outcome = await connectPerRequest.ActivateAsync(slot.Server, request, _options.ConnectTimeout,
                        _options.RequestTimeout, deadline.Token);
                    result = outcome.ResultOrThrow(slot.Server, _options.ConnectTimeout, _options.RequestTimeout, deadline.Token);
                }
                slot.MarkAnswered();
                if (!result.IsError || !result.Error.IsRetryable)
                {
                    return new KmsAnswer(slot.Server, result);
                }
                lastRetryable = new KmsAnswer(slot.Server, result);
                // Bounded by the deadline anyway; capped so that a wild hint stays a valid delay.
                retryHint = TimeSpan.FromMilliseconds(Math.Max(retryHint.TotalMilliseconds, Math.Min(result.Error.RetryAfterMilliseconds, MaxRetryHintMilliseconds)));
                reason = $"{slot.Server} answered {result.Error.Code.Name()}: {result.Error.Message}";
                // The connection is healthy: let requests already on it get their answers.
                abandon = false;
            }
            catch (Exception e) when (e is KmsConnectionException or TimeoutException)
            {
                lastFailure = e;
                reason = e.Message;
            }
            catch (OperationCanceledException e) when (!deadline.IsCancellationRequested)
            {
                // Not our cancellation: the slot's connect was cancelled because it was closed.
                lastFailure = e;
                reason = $"connecting to {slot.Server} was cancelled";
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                return DeadlinePassed(cancellationToken, tried, lastRetryable, lastFailure, slot.Server);
            }
            finally
            {
                slot.Release();
            }

            FailOver(slot, reason, abandon);
            var wholeRound = ++failures % Volatile.Read(ref _servers).Length == 0;
            try
            {
                // A discovering client looks DNS up again when the host that worked fails or every host did.
                await RediscoverAsync(slot, wholeRound, deadline.Token);
                if (wholeRound)
                {
                    // Every host failed: wait as long as the hosts asked (server-busy's hint), at least RetryDelay.
                    await Task.Delay(retryHint > _options.RetryDelay ? retryHint : _options.RetryDelay, deadline.Token);
                    retryHint = TimeSpan.Zero;
                }
            }
            catch (OperationCanceledException)
            {
                return DeadlinePassed(cancellationToken, tried, lastRetryable, lastFailure, slot.Server);
            }
        }
    }

    /// <summary>After a failure: with discovery, look the hosts up again when the failed host had worked or a whole
    /// round failed; callers wait for the look-up (their deadline still applies).</summary>
    private Task RediscoverAsync(ServerSlot failed, bool wholeRound, CancellationToken cancellationToken) =>
        _rediscovery is null || !(wholeRound || failed.HasAnswered)
            ? Task.CompletedTask
            : _rediscovery.LookUpAgainAsync(failed.Server, UseServers, _disposed.Token).WaitAsync(cancellationToken);

    private void UseServers(ServerAddress[] servers)
    {
        Volatile.Write(ref _servers, servers);
        var current = Volatile.Read(ref _current);
        if (!current.HasAnswered)
        {
            // Start the new list from its first choice; a host that answers meanwhile stays current.
            Replace(current, 0, abandon: false);
        }
    }

    private KmsAnswer DeadlinePassed(CancellationToken cancellationToken, List<ServerAddress> tried, KmsAnswer? lastRetryable,
        Exception? lastFailure, ServerAddress waitingFor)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        if (lastRetryable is { } answer)
        {
            return answer;
        }
        var last = lastFailure?.Message ?? $"{waitingFor} did not answer";
        throw new KmsConnectionException(
            $"no answer within {_options.Deadline.TotalSeconds:0.###} s from {string.Join(", ", tried)}; last failure: {last}", lastFailure);
    }

    /// <summary>The current slot with a use counted on it.</summary>
    private ServerSlot AcquireCurrent()
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            var slot = Volatile.Read(ref _current);
            if (slot.IsClosedAfterAnswering)
            {
                // The host closed a connection that worked (e.g. its idle timeout): reconnect, no failover.
                Replace(slot, slot.Index, abandon: true);
                continue;
            }
            if (slot.TryAcquire())
            {
                return slot;
            }
            // Retired between the read and the acquire: a newer slot is current already.
        }
    }

    private void FailOver(ServerSlot failed, string reason, bool abandon)
    {
        var next = (failed.Index + 1) % Volatile.Read(ref _servers).Length;
        if (Replace(failed, next, abandon))
        {
            Interlocked.Increment(ref _failovers);
            FailedOver?.Invoke(this, new KmsFailover(failed.Server, Volatile.Read(ref _current).Server, reason));
        }
    }

    /// <summary>Makes a new slot for server <paramref name="index"/> current if <paramref name="expected"/> still is.</summary>
    /// <returns>False when another caller replaced it first: their switch stands, this one is dropped.</returns>
    private bool Replace(ServerSlot expected, int index, bool abandon)
    {
        var servers = Volatile.Read(ref _servers);
        index %= servers.Length;
        var replacement = new ServerSlot(index, servers[index], _options, OnClosed);
        if (Interlocked.CompareExchange(ref _current, replacement, expected) != expected)
        {
            return false; // The replacement never connected: nothing to close.
        }
        _slots.TryAdd(replacement, 0);
        expected.Retire(abandon);
        return true;
    }

    private ServerSlot NewSlot(int index)
    {
        var slot = new ServerSlot(index, _servers[index], _options, OnClosed);
        _slots.TryAdd(slot, 0);
        return slot;
    }

    private void OnClosed(ServerSlot slot) => _slots.TryRemove(slot, out _);

    /// <summary>Ends calls in progress (ObjectDisposedException) and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }
        _disposed.Cancel();
        var closing = _slots.Keys.Append(Volatile.Read(ref _current)).Distinct().Select(s => s.CloseAsync());
        await Task.WhenAll(closing);
    }
}
