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
public sealed partial class KmsClient : IAsyncDisposable
{
    // Replaced as a whole when a discovering client looks DNS up again (KmsClient.Discovery.cs).
    private ServerAddress[] _servers;
    private readonly KmsClientOptions _options;
    private readonly CancellationTokenSource _disposed = new();
    // Every slot that may still hold a connection, so DisposeAsync closes slots still draining too.
    private readonly ConcurrentDictionary<ServerSlot, byte> _slots = new();
    private ServerSlot _current;
    private long _failovers;

    public KmsClient(IReadOnlyList<ServerAddress> servers, KmsClientOptions? options = null)
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
        _current = NewSlot(0);
    }

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
    public async Task<KmsAnswer> RequestAsync(ActivationRequest request, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposed.Token);
        deadline.CancelAfter(_options.Deadline);
        var tried = new List<ServerAddress>();
        KmsAnswer? lastRetryable = null;
        Exception? lastFailure = null;
        var failures = 0;
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
                var connection = await slot.ConnectAsync().WaitAsync(deadline.Token);
                var result = await connection.ActivateAsync(request, _options.RequestTimeout, deadline.Token);
                slot.MarkAnswered();
                if (!result.IsError || !result.Error.IsRetryable)
                {
                    return new KmsAnswer(slot.Server, result);
                }
                lastRetryable = new KmsAnswer(slot.Server, result);
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
                    await Task.Delay(_options.RetryDelay, deadline.Token);
                }
            }
            catch (OperationCanceledException)
            {
                return DeadlinePassed(cancellationToken, tried, lastRetryable, lastFailure, slot.Server);
            }
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

    /// <summary>
    /// One period of using one server: its connection (opened by the first caller that needs it) and a count
    /// of callers using it. Once retired (no longer current) it closes when its last caller is done, or at
    /// once when abandoned.
    /// </summary>
    private sealed class ServerSlot(int index, ServerAddress server, KmsClientOptions options, Action<ServerSlot> closed)
    {
        private const int RetiredFlag = 1;
        private const int OneUser = 2;

        private readonly object _gate = new();
        private readonly CancellationTokenSource _closing = new();
        private Task<KmsConnection>? _connecting;
        private Task? _closed;
        // Bit 0: retired; the rest counts users in steps of 2, so both change in one atomic operation.
        private int _state;
        private volatile bool _answered;

        public int Index { get; } = index;
        public ServerAddress Server { get; } = server;

        /// <summary>The connection answered at least once and is closed now.</summary>
        public bool IsClosedAfterAnswering => _answered && IsConnectionClosed;

        public bool IsConnectionClosed =>
            Volatile.Read(ref _connecting) is { IsCompletedSuccessfully: true } connecting && !connecting.Result.IsOpen;

        public Task<KmsConnection> ConnectAsync()
        {
            lock (_gate)
            {
                if (_closed is not null)
                {
                    return Task.FromException<KmsConnection>(new KmsConnectionException($"connection to {Server} closed by the client"));
                }
                return _connecting ??= KmsConnection.ConnectAsync(Server.Host, Server.Port, options.ConnectTimeout, _closing.Token);
            }
        }

        public void MarkAnswered() => _answered = true;

        public bool HasAnswered => _answered;

        public bool TryAcquire()
        {
            while (true)
            {
                var state = Volatile.Read(ref _state);
                if ((state & RetiredFlag) != 0)
                {
                    return false;
                }
                if (Interlocked.CompareExchange(ref _state, state + OneUser, state) == state)
                {
                    return true;
                }
            }
        }

        public void Release()
        {
            if (Interlocked.Add(ref _state, -OneUser) == RetiredFlag)
            {
                _ = CloseAsync();
            }
        }

        public void Retire(bool abandon)
        {
            var before = Interlocked.Or(ref _state, RetiredFlag);
            if (abandon || before == 0)
            {
                _ = CloseAsync();
            }
        }

        /// <summary>Idempotent; never throws.</summary>
        public Task CloseAsync()
        {
            lock (_gate)
            {
                return _closed ??= CloseCoreAsync();
            }
        }

        private async Task CloseCoreAsync()
        {
            // Leave the caller's lock before cancelling: cancellation runs callbacks inline.
            await Task.Yield();
            _closing.Cancel();
            KmsConnection? connection = null;
            if (_connecting is { } connecting)
            {
                try
                {
                    connection = await connecting;
                }
                catch (Exception e) when (e is KmsConnectionException or OperationCanceledException)
                {
                    // It never connected: nothing to close.
                }
            }
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
            _closing.Dispose();
            closed(this);
        }
    }
}
