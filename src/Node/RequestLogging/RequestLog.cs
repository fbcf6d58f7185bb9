using System.Threading.Channels;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.RequestLogging;

/// <summary>
/// The activation path's side of the request log: a bounded queue that never blocks. With the log off,
/// <see cref="Enabled"/> is false and callers build no entry at all. With it on, <see cref="Add"/> hands the entry
/// to the queue, or drops it and counts the drop when the writer (<see cref="RequestLogWriter"/>) has fallen
/// behind by <see cref="Capacity"/> lines: answers are never held up by the disk.
/// </summary>
public sealed class RequestLog
{
    /// <summary>Lines the queue holds before new ones are dropped: seconds of the heaviest load, a few MB of memory.</summary>
    public const int Capacity = 65536;

    private readonly Channel<RequestLogEntry>? _queue;
    private long _dropped;
    private long _written;
    private long _writeErrors;
    private long _rotations;

    public RequestLog(NodeOptions options)
    {
        Settings = options.RequestLog;
        if (Settings is not null)
        {
            // Wait mode: TryWrite answers false when full, and the caller counts the drop (no blocking, no callback).
            _queue = Channel.CreateBounded<RequestLogEntry>(new BoundedChannelOptions(Capacity)
            {
                SingleReader = true,
                SingleWriter = false,
                FullMode = BoundedChannelFullMode.Wait,
                AllowSynchronousContinuations = false,
            });
        }
        Enabled = _queue is not null;
    }

    public bool Enabled { get; }

    public RequestLogSettings? Settings { get; }

    internal ChannelReader<RequestLogEntry> Reader => _queue?.Reader ?? throw new InvalidOperationException("the request log is off");

    public void Add(RequestLogEntry entry)
    {
        if (_queue is null || !_queue.Writer.TryWrite(entry))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>No more lines: the writer drains what is queued and stops.</summary>
    internal void Complete() => _queue?.Writer.TryComplete();

    public long Dropped => Interlocked.Read(ref _dropped);
    public long Written => Interlocked.Read(ref _written);
    public long WriteErrors => Interlocked.Read(ref _writeErrors);
    public long Rotations => Interlocked.Read(ref _rotations);

    internal void CountWritten(int lines) => Interlocked.Add(ref _written, lines);
    internal void CountLost(int lines) => Interlocked.Add(ref _writeErrors, lines);
    internal void CountRotation() => Interlocked.Increment(ref _rotations);
}
