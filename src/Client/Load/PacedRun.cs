using System.Diagnostics;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Load;

/// <summary>
/// Closed and open loop: <see cref="LoadOptions.Connections"/> connections spread round robin over the servers,
/// each with <see cref="LoadOptions.Pipeline"/> lanes; a lane has one request in flight at a time. Request
/// <c>n</c> of the run goes to machine <c>n mod clients</c>.
/// </summary>
/// <remarks>
/// Closed loop: lanes take the next request number from a shared counter and send at once. Open loop: request
/// <c>n</c> is due at <c>start + n / rate</c>; connection <c>c</c> owns the numbers <c>c, c + C, c + 2C, ...</c>
/// and its lanes take them in order, wait until each is due, and count latency from the due time. When every lane
/// of a connection is busy the next number is already late when a lane takes it, and its latency includes that
/// wait: a slow host cannot hide behind the generator (no coordinated omission). The hot path takes no lock and
/// allocates only what <see cref="KmsConnection"/> needs per request.
/// </remarks>
internal sealed class PacedRun : LoadRun
{
    private readonly Worker[] _workers;
    private readonly long _limit;
    private readonly double _ticksPerRequest;
    private long _next;

    public PacedRun(LoadOptions options, Fleet fleet, Action<LoadProgress>? progress) : base(options, fleet, progress)
    {
        _workers = new Worker[options.Connections];
        for (var c = 0; c < _workers.Length; c++)
        {
            _workers[c] = new Worker(this, c, options.Servers[c % options.Servers.Count]);
        }
        _limit = options.Requests ?? long.MaxValue;
        _ticksPerRequest = options.Rate is { } rate ? Stopwatch.Frequency / rate : 0;
    }

    private protected override async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var timeout = ConnectTimeout(Options);
        // Servers no connection goes to (fewer connections than servers) are checked too.
        await ProbeAsync(Options.Servers.Skip(_workers.Length), timeout, cancellationToken);
        var connecting = _workers.Select(w => w.ConnectAsync(timeout, cancellationToken)).ToArray();
        try
        {
            await Task.WhenAll(connecting);
        }
        catch (KmsConnectionException)
        {
            var failure = connecting.First(t => t.IsFaulted).Exception!.InnerException!;
            throw new LoadUnreachableException(failure.Message, failure);
        }
    }

    private protected override Task[] StartWorkers()
    {
        var lanes = new Task[_workers.Length * Options.Pipeline];
        var open = Options.Mode == LoadMode.Open;
        for (var c = 0; c < _workers.Length; c++)
        {
            var worker = _workers[c];
            var shard = Stats.For(c);
            for (var l = 0; l < Options.Pipeline; l++)
            {
                lanes[c * Options.Pipeline + l] = Task.Run(() => LaneAsync(worker, shard, open));
            }
        }
        return lanes;
    }

    private protected override async ValueTask CloseAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }
    }

    /// <summary>One request in flight at a time, until the run stops or the requests run out. Everything per
    /// request happens in this one method, so its state machine is allocated once per lane, not per request.</summary>
    private async Task LaneAsync(Worker worker, LoadStats.Shard shard, bool open)
    {
        var connections = _workers.Length;
        var machines = Fleet.Count;
        var oneMillisecond = Stopwatch.Frequency / 1000;
        while (!Stopping.IsCancellationRequested)
        {
            long n;
            long since;
            if (open)
            {
                n = worker.Index + (Interlocked.Increment(ref worker.NextSlot) - 1) * connections;
                if (n >= _limit)
                {
                    return;
                }
                since = StartTimestamp + (long)(n * _ticksPerRequest);
                if (since >= EndTimestamp)
                {
                    return;
                }
                var wait = since - Stopwatch.GetTimestamp();
                if (wait > oneMillisecond)
                {
                    try
                    {
                        // Whole milliseconds, rounded up: timers never fire before their time, so this never sends early.
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait * 1000.0 / Stopwatch.Frequency)), Stopping);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
            else
            {
                n = Interlocked.Increment(ref _next) - 1;
                if (n >= _limit)
                {
                    return;
                }
                since = 0;
            }

            var connection = worker.Current;
            if (!connection.IsOpen && (connection = await worker.ReconnectAsync()) is null)
            {
                return;
            }
            var request = RequestFor((int)(n % machines), LicenseState.InitialGrace, 43200);
            // Open loop: from the scheduled time, or from the send when that is (less than a millisecond) earlier.
            since = open ? Math.Min(since, Stopwatch.GetTimestamp()) : Stopwatch.GetTimestamp();
            try
            {
                var result = await connection.ActivateAsync(request, Options.Timeout, Abandoning);
                shard.Record(result, LoadStats.MicrosecondsSince(since));
            }
            catch (TimeoutException)
            {
                shard.RecordNoAnswer();
            }
            catch (KmsConnectionException)
            {
                if (Abandoning.IsCancellationRequested)
                {
                    return;
                }
                shard.RecordNoAnswer();
            }
            catch (OperationCanceledException) when (Abandoning.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>One connection to one server, reopened when it fails; gives up after failing to reconnect for
    /// <see cref="LoadOptions.Timeout"/>.</summary>
    private sealed class Worker(PacedRun run, int index, ServerAddress server) : IAsyncDisposable
    {
        private readonly object _gate = new();
        private KmsConnection? _current;
        private KmsConnection? _closed;
        private Task<KmsConnection?>? _reconnecting;
        private bool _disposed;

        public readonly int Index = index;

        /// <summary>Open loop: the next of this connection's request slots.</summary>
        public long NextSlot;

        /// <summary>The connection; check <see cref="KmsConnection.IsOpen"/>.</summary>
        public KmsConnection Current => Volatile.Read(ref _current)!;

        public async Task ConnectAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
            Volatile.Write(ref _current, await KmsConnection.ConnectAsync(server.Host, server.Port, timeout, cancellationToken));

        /// <summary>An open connection, or null when the run stops or the server stayed unreachable.</summary>
        public Task<KmsConnection?> ReconnectAsync()
        {
            lock (_gate)
            {
                if (_current is { IsOpen: true } open)
                {
                    return Task.FromResult<KmsConnection?>(open);
                }
                if (_reconnecting is { IsCompleted: true } done && done.Result is null)
                {
                    return done; // gave up
                }
                if (_reconnecting is null || _reconnecting.IsCompleted)
                {
                    _reconnecting = ReconnectCoreAsync();
                }
                return _reconnecting;
            }
        }

        private async Task<KmsConnection?> ReconnectCoreAsync()
        {
            var failingSince = Stopwatch.GetTimestamp();
            KmsConnection? broken;
            lock (_gate)
            {
                broken = _current;
                _closed = broken;
            }
            if (broken is not null)
            {
                await broken.DisposeAsync();
            }
            while (!run.Stopping.IsCancellationRequested)
            {
                try
                {
                    var connection = await KmsConnection.ConnectAsync(server.Host, server.Port, ConnectTimeout(run.Options), run.Stopping);
                    lock (_gate)
                    {
                        if (_disposed)
                        {
                            _ = connection.DisposeAsync();
                            return null;
                        }
                        Volatile.Write(ref _current, connection);
                    }
                    return connection;
                }
                catch (KmsConnectionException)
                {
                    if (Stopwatch.GetElapsedTime(failingSince) >= run.Options.Timeout)
                    {
                        return null;
                    }
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
                try
                {
                    await Task.Delay(250, run.Stopping);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
            }
            return null;
        }

        public async ValueTask DisposeAsync()
        {
            KmsConnection? current;
            lock (_gate)
            {
                _disposed = true;
                current = _current == _closed ? null : _current;
            }
            if (current is not null)
            {
                await current.DisposeAsync();
            }
        }
    }
}
