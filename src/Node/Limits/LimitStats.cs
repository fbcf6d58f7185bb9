namespace KmsCluster.Node.Limits;

/// <summary>What the abuse limits turned away since the node started, by kind: the one store of these numbers, read by
/// /api/v1/stats and by <see cref="Telemetry.LimitMetrics"/> (/metrics, OTLP). Lock-free.</summary>
public sealed class LimitStats
{
    private long _refusedNode;
    private long _refusedSource;
    private long _frameTimeouts;
    private long _brokenStreams;
    private long _throttledSource;
    private long _throttledNode;
    private long _holdOffs;

    /// <summary>A connection reset at accept: the node held --max-connections.</summary>
    public void RefusedNodeConnection() => Interlocked.Increment(ref _refusedNode);

    /// <summary>A connection reset at accept: its source held --max-connections-per-source.</summary>
    public void RefusedSourceConnection() => Interlocked.Increment(ref _refusedSource);

    /// <summary>A connection closed because a frame it started did not complete within --frame-timeout.</summary>
    public void FrameTimedOut() => Interlocked.Increment(ref _frameTimeouts);

    /// <summary>A connection closed because its stream broke (bad magic, a length beyond the limit).</summary>
    public void BrokenStream() => Interlocked.Increment(ref _brokenStreams);

    /// <summary>A request answered server-busy: its source was over --source-rate.</summary>
    public void ThrottledSource() => Interlocked.Increment(ref _throttledSource);

    /// <summary>A request answered server-busy: the node held --max-pending unanswered requests.</summary>
    public void ThrottledNode() => Interlocked.Increment(ref _throttledNode);

    /// <summary>A connection over its source's rate not read again until its retry hint had passed.</summary>
    public void HeldOff() => Interlocked.Increment(ref _holdOffs);

    public long RefusedNodeConnections => Interlocked.Read(ref _refusedNode);
    public long RefusedSourceConnections => Interlocked.Read(ref _refusedSource);
    public long FrameTimeouts => Interlocked.Read(ref _frameTimeouts);
    public long BrokenStreams => Interlocked.Read(ref _brokenStreams);
    public long ThrottledSourceRequests => Interlocked.Read(ref _throttledSource);
    public long ThrottledNodeRequests => Interlocked.Read(ref _throttledNode);
    public long SourceHoldOffs => Interlocked.Read(ref _holdOffs);
}
