using System.Buffers;
using System.IO.Pipelines;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Transport;

/// <summary>
/// The one writer of a connection's outbound frames, used by the host's sessions and the client's
/// connections alike (in the manner of BedrockFramework's ProtocolWriter). Thread-safe.
/// <list type="bullet">
/// <item>A frame is written by the thread that sends it, under a lock; no writer task to wake per frame
/// (measured to matter, docs/benchmarks.md). With <see cref="FlushTiming.Immediate"/> that thread flushes too:
/// right where the transport sends on its own thread (Kestrel), so flushes that meet go out in one send. With
/// <see cref="FlushTiming.AfterBurst"/> the first frame of a burst schedules one flush on the thread pool and
/// the frames written until it runs share it: right where the flush is the send itself (a NetworkStream).</item>
/// <item>Back-pressure: while a flush waits on a peer that does not read, later frames gather in a backlog and
/// go out together with the next flush; the caller is never blocked.</item>
/// <item>A frame sent with <c>counted</c> is reported to <c>flushed</c> once its flush completed, or once it was
/// dropped because the connection is closed: whoever bounds the frames in flight gives them back there.</item>
/// <item>A connection going away never throws into the sender: the writer closes, reports the error to
/// <c>failed</c> once, and drops every later frame.</item>
/// </list>
/// </summary>
public sealed class OutboundFrameWriter(PipeWriter output, FlushTiming timing,
    Action<int>? flushed = null, Action<Exception>? failed = null)
{
    // A stalled connection's backlog is dropped after it drains rather than kept for the connection's life.
    private const int BacklogKeptBytes = 64 * 1024;

    private readonly Lock _lock = new();
    private ArrayBufferWriter<byte>? _backlog; // frames written while a flush is pending; empty otherwise
    private int _backlogCounted;
    private bool _flushPending;
    private bool _flushScheduled; // AfterBurst: a flush is queued; frames go straight into the output meanwhile
    private int _unflushedCounted;
    private Task _flushing = Task.CompletedTask;
    private bool _closed;

    /// <summary>True once the connection failed, the peer completed it, or <see cref="Close"/> was called.</summary>
    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>Writes one frame now (flushed as the <see cref="FlushTiming"/> says), or adds it to the backlog of
    /// a flush still in progress.
    /// Returns false when the writer is closed and the frame was dropped. A message the protocol cannot carry
    /// throws <see cref="ArgumentException"/> and leaves the connection as it was.</summary>
    public bool Write<T>(uint requestId, in T body, bool counted = true) where T : IFrameBody
    {
        var count = counted ? 1 : 0;
        int done;
        Exception? failure = null;
        bool written;
        lock (_lock)
        {
            if (_closed)
            {
                done = count;
                written = false;
            }
            else if (_flushPending)
            {
                FrameWriter.Write(_backlog ??= new ArrayBufferWriter<byte>(), requestId, body);
                _backlogCounted += count;
                return true;
            }
            else
            {
                written = TryWrite(requestId, body, ref failure);
                if (!written) done = count;
                else if (timing == FlushTiming.Immediate) done = Flush(count, ref failure);
                else done = ScheduleFlush(count);
            }
        }
        Report(done, failure);
        return written;
    }

    /// <summary>Waits until no flush is in progress (false when <paramref name="timeout"/> passed first: a peer
    /// that stopped reading). A burst's flush that is only scheduled is not waited for.</summary>
    public async Task<bool> FlushedAsync(TimeSpan timeout)
    {
        using var expiry = new CancellationTokenSource(timeout);
        while (true)
        {
            Task flushing;
            lock (_lock) flushing = _flushing;
            try
            {
                await flushing.WaitAsync(expiry.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            lock (_lock)
            {
                if (ReferenceEquals(flushing, _flushing)) return true;
            }
        }
    }

    /// <summary>Drops every later frame (and the backlog of a flush that is still pending), e.g. before the
    /// transport completes the pipe.</summary>
    public void Close()
    {
        lock (_lock) _closed = true;
    }

    private int ScheduleFlush(int counted)
    {
        _unflushedCounted += counted;
        if (!_flushScheduled)
        {
            _flushScheduled = true;
            ThreadPool.UnsafeQueueUserWorkItem(static writer => writer.FlushBurst(), this, preferLocal: false);
        }
        return 0;
    }

    private void FlushBurst()
    {
        int done;
        Exception? failure = null;
        lock (_lock)
        {
            _flushScheduled = false;
            done = _unflushedCounted;
            _unflushedCounted = 0;
            if (!_closed) done = Flush(done, ref failure);
        }
        Report(done, failure);
    }

    private bool TryWrite<T>(uint requestId, in T body, ref Exception? failure) where T : IFrameBody
    {
        try
        {
            FrameWriter.Write(output, requestId, body);
            return true;
        }
        catch (Exception e) when (IsConnectionGone(e))
        {
            failure = Fail(e);
            return false;
        }
    }

    /// <summary>Under the lock, nothing pending: flushes. Returns the counted frames done at once; when the peer
    /// is slow, the continuation reports them instead.</summary>
    private int Flush(int counted, ref Exception? failure)
    {
        ValueTask<FlushResult> flush;
        try
        {
            flush = output.FlushAsync();
            if (flush.IsCompleted)
            {
                Completed(flush.GetAwaiter().GetResult());
                return counted;
            }
        }
        catch (Exception e)
        {
            failure = Fail(e);
            return counted;
        }
        _flushPending = true;
        _flushing = FinishFlushAsync(flush, counted);
        return 0;
    }

    private async Task FinishFlushAsync(ValueTask<FlushResult> flush, int counted)
    {
        Exception? failure = null;
        FlushResult? result = null;
        try
        {
            result = await flush.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }
        var done = counted;
        lock (_lock)
        {
            _flushPending = false;
            if (failure is not null) failure = Fail(failure);
            else Completed(result!.Value);
            done += FlushBacklog(ref failure);
        }
        Report(done, failure);
    }

    /// <summary>Under the lock, after a flush: sends what gathered meanwhile (or drops it when closed).</summary>
    private int FlushBacklog(ref Exception? failure)
    {
        var counted = _backlogCounted;
        _backlogCounted = 0;
        if (_backlog is not { WrittenCount: > 0 } backlog) return counted;
        var write = !_closed;
        if (write)
        {
            try
            {
                output.Write(backlog.WrittenSpan);
            }
            catch (Exception e) when (IsConnectionGone(e))
            {
                failure = Fail(e);
                write = false;
            }
        }
        if (backlog.Capacity > BacklogKeptBytes) _backlog = null;
        else backlog.ResetWrittenCount();
        return write ? Flush(counted, ref failure) : counted;
    }

    private void Completed(FlushResult result)
    {
        if (result.IsCompleted || result.IsCanceled) _closed = true;
    }

    /// <summary>Closes; returns the error to report, or null when the writer was closed already.</summary>
    private Exception? Fail(Exception e)
    {
        if (_closed) return null;
        _closed = true;
        return e;
    }

    private void Report(int done, Exception? failure)
    {
        if (failure is not null) failed?.Invoke(failure);
        if (done > 0) flushed?.Invoke(done);
    }

    private static bool IsConnectionGone(Exception e) =>
        e is IOException or OperationCanceledException or InvalidOperationException;
}

/// <summary>When <see cref="OutboundFrameWriter"/> flushes what a sender wrote.</summary>
public enum FlushTiming
{
    /// <summary>At once, on the sender's thread: for a transport that sends on its own thread (Kestrel's pipe).</summary>
    Immediate,

    /// <summary>Once per burst, on the thread pool: for a pipe whose flush is the send itself (a NetworkStream).</summary>
    AfterBurst,
}
