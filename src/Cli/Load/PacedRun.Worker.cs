using System.Diagnostics;
using KmsCluster.Client.Connection;

namespace KmsCluster.Cli.Load;

internal sealed partial class PacedRun
{
    /// <summary>One connection to one server, reopened when it fails; gives up after failing to reconnect for
    /// <see cref="LoadOptions.Timeout"/>. With a connection per request it holds no connection, only
    /// <see cref="PerRequest"/>.</summary>
    private sealed class Worker(PacedRun run, int index, ServerAddress server, int pipeline) : IAsyncDisposable, IThreadPoolWorkItem
    {
        private readonly object _gate = new();
        private KmsConnection? _current;
        private KmsConnection? _closed;
        private Task<KmsConnection?>? _reconnecting;
        private bool _disposed;

        public readonly int Index = index;

        public ServerAddress Server => server;

        /// <summary>With --connect-per-request: what opens a connection for each request (the one lane's).</summary>
        public ConnectPerRequestClient? PerRequest { get; init; }

        /// <summary>Open loop: how many of this connection's slots lanes took (see <see cref="RequestNumber(int, long, int, int)"/>).</summary>
        public long Taken;

        public readonly Lane[] Lanes = Enumerable.Range(0, pipeline).Select(_ => new Lane()).ToArray();

        private int _wakeQueued;

        /// <summary>Open loop: queues this connection to the thread pool to wake its parked lanes that have a due
        /// slot (or all of them at the end), unless it is queued already and has not started yet.</summary>
        public void ScheduleWake()
        {
            if (Volatile.Read(ref _wakeQueued) == 0 && Interlocked.Exchange(ref _wakeQueued, 1) == 0)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }
        }

        void IThreadPoolWorkItem.Execute()
        {
            // Cleared before looking, so a wake asked for meanwhile either finds it queued again or is seen below.
            Interlocked.Exchange(ref _wakeQueued, 0);
            run.WakeDue(this);
        }

        /// <summary>The connection; check <see cref="KmsConnection.IsOpen"/>.</summary>
        public KmsConnection Current => Volatile.Read(ref _current)!;

        public async Task ConnectAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
            Volatile.Write(ref _current, await KmsConnection.ConnectAsync(server.Host, server.Port, timeout, cancellationToken, run.Options.ProtocolVersion));

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
                    var connection = await KmsConnection.ConnectAsync(server.Host, server.Port, ConnectTimeout(run.Options), run.Stopping, run.Options.ProtocolVersion);
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
            PerRequest?.Dispose();
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
