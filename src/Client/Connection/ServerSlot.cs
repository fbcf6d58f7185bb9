namespace KmsCluster.Client.Connection;

/// <summary>
/// One period of using one server: its connection (opened by the first caller that needs it) and a count
/// of callers using it. Once retired (no longer current) it closes when its last caller is done, or at
/// once when abandoned.
/// </summary>
internal sealed class ServerSlot(int index, ServerAddress server, KmsClientOptions options, Action<ServerSlot> closed)
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
            return _connecting ??= KmsConnection.ConnectAsync(Server.Host, Server.Port, options.ConnectTimeout, _closing.Token, options.ProtocolVersion);
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
