using KmsCluster.Actors.Entities;

namespace KmsCluster.Node.Clustering;

/// <summary>
/// Notices when this process was frozen. A dedicated thread ticks every 100 ms; a gap longer than the
/// cluster's failure detection plus the split brain resolver's stable-after means the others have downed
/// this node and moved its windows: the fence closes for good (no window writes again) and the node stops
/// with exit code 1. Between a wake-up and the first tick, the stale tick itself closes the fence, so not
/// even the first write after a freeze gets through.
/// </summary>
public sealed partial class FreezeWatchdog : IWriteFence, IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    /// <summary>Writes are refused while the last tick is older than this (a freeze in progress or just over).</summary>
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(1);

    private readonly TimeSpan _presumedDowned;
    private readonly Action _onFrozen;
    private readonly ILogger _log;
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stop = new();
    private long _lastTick = Environment.TickCount64;
    private volatile bool _fenced;

    /// <param name="presumedDowned">A freeze this long means the cluster has downed this node.</param>
    /// <param name="onFrozen">Called once, from the watchdog thread, when that happened.</param>
    public FreezeWatchdog(TimeSpan presumedDowned, Action onFrozen, ILogger log)
    {
        _presumedDowned = presumedDowned;
        _onFrozen = onFrozen;
        _log = log;
        _thread = new Thread(Run) { IsBackground = true, Name = "kms-freeze-watchdog", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    public bool MayWrite => !_fenced && Environment.TickCount64 - Interlocked.Read(ref _lastTick) < Stale.TotalMilliseconds;

    public bool Fenced => _fenced;

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            _stop.Token.WaitHandle.WaitOne(Tick);
            var now = Environment.TickCount64;
            var gap = TimeSpan.FromMilliseconds(now - Interlocked.Read(ref _lastTick));
            if (gap >= _presumedDowned && !_fenced)
            {
                _fenced = true;
                LogFrozen(gap.TotalSeconds);
                _onFrozen();
            }
            Interlocked.Exchange(ref _lastTick, now);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(1));
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error,
        Message = "This node was frozen for {Seconds:0.0} s, longer than the cluster waits before downing a silent node: it writes nothing more and stops")]
    private partial void LogFrozen(double seconds);
}
