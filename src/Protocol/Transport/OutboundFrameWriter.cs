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
/// the frames written until it runs share it, and it sends outside the lock: right where the flush is the send
/// itself (a NetworkStream).</item>
/// <item>Back-pressure: while a flush is in progress (a peer that does not read, a send under way), later frames
/// gather in a backlog and go out together with the next flush; the caller is never blocked.</item>
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
    /// throws <see cref="ArgumentException"/> and leaves the connection as it was. <paramref name="version"/>: the
    /// envelope's version when not the body's own (see <see cref="FrameWriter.Write{T}"/>).</summary>
    public bool Write<T>(uint requestId, in T body, bool counted = true, byte version = 0) where T : IFrameBody
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
                FrameWriter.Write(_backlog ??= new ArrayBufferWriter<byte>(), requestId, body, version);
                _backlogCounted += count;
                return true;
            }
            else
            {
                written = TryWrite(requestId, body, version, ref failure);
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
        try
        {
            while (true)
            {
                Task flushing;
                lock (_lock)
                {
                    if (!_flushPending) return true;
                    flushing = _flushing;
                }
                // A burst's flush registers its task just after it starts: if this one is done, look again shortly.
                await (flushing.IsCompleted ? Task.Delay(1, expiry.Token) : flushing.WaitAsync(expiry.Token)).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            return false;
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

    /// <summary>AfterBurst, on the thread pool: flushes what the burst wrote. The send runs outside the lock, so
    /// senders never wait on it: meanwhile they write to the backlog, which goes out with the next flush.</summary>
    private void FlushBurst()
    {
        int counted;
        bool open;
        lock (_lock)
        {
            _flushScheduled = false;
            counted = _unflushedCounted;
            _unflushedCounted = 0;
            open = !_closed;
            _flushPending = open;
        }
        if (!open)
        {
            Report(counted, null);
            return;
        }
        var flushing = FlushLoopAsync(StartFlush(), counted);
        lock (_lock) _flushing = flushing;
    }

    private bool TryWrite<T>(uint requestId, in T body, byte version, ref Exception? failure) where T : IFrameBody
    {
        try
        {
            FrameWriter.Write(output, requestId, body, version);
            return true;
        }
        catch (Exception e) when (IsConnectionGone(e))
        {
            failure = Fail(e);
            return false;
        }
    }

    /// <summary>Immediate, under the lock, nothing pending: flushes. Returns the counted frames done at once; when
    /// the peer is slow, <see cref="FlushLoopAsync"/> reports them instead.</summary>
    private int Flush(int counted, ref Exception? failure)
    {
        var flush = StartFlush();
        if (flush.IsCompleted)
        {
            try
            {
                Completed(flush.GetAwaiter().GetResult());
            }
            catch (Exception e)
            {
                failure = Fail(e);
            }
            return counted;
        }
        _flushPending = true;
        _flushing = FlushLoopAsync(flush, counted);
        return 0;
    }

    private ValueTask<FlushResult> StartFlush()
    {
        try
        {
            return output.FlushAsync();
        }
        catch (Exception e)
        {
            return ValueTask.FromException<FlushResult>(e);
        }
    }

    /// <summary>Waits for a flush in progress and reports its frames, then flushes the backlog that gathered
    /// meanwhile, until none did. While <c>_flushPending</c> senders touch only the backlog, so the flushes here
    /// run outside the lock.</summary>
    private async Task FlushLoopAsync(ValueTask<FlushResult> flush, int counted)
    {
        while (true)
        {
            Exception? failure = null;
            var result = default(FlushResult);
            try
            {
                result = await flush.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                failure = e;
            }
            var done = counted;
            bool more;
            lock (_lock)
            {
                if (failure is not null) failure = Fail(failure);
                else Completed(result);
                counted = MoveBacklog(ref failure, out more);
                if (!more)
                {
                    done += counted; // dropped with a closed connection, or none
                    _flushPending = false;
                }
            }
            Report(done, failure);
            if (!more) return;
            flush = StartFlush();
        }
    }

    /// <summary>Under the lock, after a flush: moves what gathered meanwhile into the output (or drops it when
    /// closed) and returns its counted frames; <paramref name="more"/> says there is something to flush.</summary>
    private int MoveBacklog(ref Exception? failure, out bool more)
    {
        var counted = _backlogCounted;
        _backlogCounted = 0;
        more = false;
        if (_backlog is not { WrittenCount: > 0 } backlog) return counted;
        if (!_closed)
        {
            try
            {
                output.Write(backlog.WrittenSpan);
                more = true;
            }
            catch (Exception e) when (IsConnectionGone(e))
            {
                failure = Fail(e);
            }
        }
        if (backlog.Capacity > BacklogKeptBytes) _backlog = null;
        else backlog.ResetWrittenCount();
        return counted;
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
