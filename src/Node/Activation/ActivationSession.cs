using System.Buffers;
using System.IO.Pipelines;
using KmsCluster.Node.Configuration;
using KmsCluster.Protocol.Wire;
using Microsoft.AspNetCore.Connections;

namespace KmsCluster.Node.Activation;

/// <summary>
/// One client connection. The read loop parses every complete frame of a read, answers bad ones at once
/// and submits good ones; answers come back from the gateways on other threads, which write and flush them
/// at once (a gateway delivering a batch sends each connection's answer from its own thread: no hop; the
/// transport coalesces flushes that meet in one send). At most <see cref="NodeOptions.MaxRequestsPerConnection"/>
/// requests are in flight: beyond that the session stops reading, which pushes back on the client.
/// A frame whose envelope is broken gets an error and the connection closes after it (nothing after it can
/// be trusted); a bad body or an unknown version only costs that one request.
/// </summary>
internal sealed partial class ActivationSession : IResponseSink
{
    private readonly ConnectionContext _connection;
    private readonly ActivationService _service;
    private readonly NodeOptions _options;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _slots;

    // The write side: answers are written by whichever thread delivers them (a gateway, or the read loop for a
    // refusal), under this lock, and flushed at once; no writer task to wake per answer. While a flush waits on
    // a slow client, later answers queue and go out with the next flush.
    private readonly Lock _writeLock = new();
    private readonly Queue<Outbound> _queued = new();
    private Task _flushing = Task.CompletedTask;
    private bool _flushPending;
    private bool _broken;

    public ActivationSession(ConnectionContext connection, ActivationService service, NodeOptions options, ILogger log)
    {
        _connection = connection;
        _service = service;
        _options = options;
        _log = log;
        _slots = new SemaphoreSlim(options.MaxRequestsPerConnection, options.MaxRequestsPerConnection);
    }

    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            await ReadLoopAsync(stop);
        }
        finally
        {
            await DrainAsync();
            await FlushedAsync();
            // Kestrel completes the output once this returns: an answer arriving later (after a drain that gave
            // up on a client that stopped reading) is dropped here, not written to a completed pipe.
            lock (_writeLock) _broken = true;
        }
    }

    /// <summary>Waits for the last flush (a closing error is sent without a slot, so draining does not cover it).</summary>
    private async Task FlushedAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (true)
        {
            Task flushing;
            lock (_writeLock) flushing = _flushing;
            try
            {
                await flushing.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                return; // a client that stopped reading: give up on it
            }
            lock (_writeLock)
            {
                if (ReferenceEquals(flushing, _flushing)) return;
            }
        }
    }

    public void Send(uint requestId, in ActivationResponse response) =>
        Write(new Outbound(requestId, response, default, IsError: false, HoldsSlot: true));

    public void SendError(uint requestId, in ErrorResponse error) =>
        Write(new Outbound(requestId, default, error, IsError: true, HoldsSlot: true));

    /// <summary>An error about the stream itself, sent without a slot just before the connection closes.</summary>
    private void SendStreamError(uint requestId, in ErrorResponse error) =>
        Write(new Outbound(requestId, default, error, IsError: true, HoldsSlot: false));

    private async Task ReadLoopAsync(CancellationToken stop)
    {
        var input = _connection.Transport.Input;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stop);
        while (true)
        {
            idle.CancelAfter(_options.IdleTimeout);
            ReadResult result;
            try
            {
                result = await input.ReadAsync(idle.Token);
            }
            catch (OperationCanceledException)
            {
                if (!stop.IsCancellationRequested) LogIdle(_connection.ConnectionId, _connection.RemoteEndPoint);
                return;
            }
            catch (Exception e) when (e is IOException or ConnectionResetException or ConnectionAbortedException)
            {
                return;
            }

            var buffer = result.Buffer;
            var close = false;
            try
            {
                while (FrameReader.TryParse(buffer, out var consumed, out _, out var frame))
                {
                    if (!await TakeSlotAsync(stop))
                    {
                        close = true;
                        break;
                    }
                    Handle(frame);
                    buffer = buffer.Slice(consumed);
                }
            }
            catch (FrameException e)
            {
                // The envelope is broken: nothing after it can be trusted. Answer and close.
                SendStreamError(e.RequestId, _service.RefusedFrame(e.Code, e.Message + "; closing the connection"));
                close = true;
            }

            if (result.IsCompleted && !close && !buffer.IsEmpty)
            {
                SendStreamError(0, _service.RefusedFrame(ErrorCode.MalformedRequest,
                    $"connection ended inside a frame ({buffer.Length} bytes of an incomplete frame)"));
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (close || result.IsCompleted || result.IsCanceled)
            {
                return;
            }
        }
    }

    private ValueTask<bool> TakeSlotAsync(CancellationToken stop)
    {
        if (_slots.Wait(0)) return ValueTask.FromResult(true);
        return WaitForSlotAsync(stop);

        async ValueTask<bool> WaitForSlotAsync(CancellationToken token)
        {
            try
            {
                await _slots.WaitAsync(token);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
    }

    /// <summary>Answers or submits one frame; each frame holds one slot until its answer is written.</summary>
    private void Handle(in Frame frame)
    {
        if (frame.Version != ProtocolConstants.Version)
        {
            SendError(frame.RequestId, _service.RefusedFrame(ErrorCode.UnsupportedVersion,
                $"protocol version {frame.Version} is not supported; this host speaks version {ProtocolConstants.Version}"));
            return;
        }
        if (frame.Type != MessageType.ActivationRequest)
        {
            SendError(frame.RequestId, _service.RefusedFrame(ErrorCode.UnknownMessageType,
                $"message type {(byte)frame.Type} is not a request a host accepts"));
            return;
        }
        Span<byte> scratch = stackalloc byte[ProtocolConstants.MaxBodySize];
        if (!ActivationRequest.TryRead(frame.BodySpan(scratch), out var request, out var problem))
        {
            SendError(frame.RequestId, _service.RefusedFrame(ErrorCode.MalformedRequest, problem));
            return;
        }
        if (_service.Submit(frame.RequestId, request, this) is { } refusal)
        {
            SendError(frame.RequestId, refusal);
        }
    }

    /// <summary>Waits until every request taken from this connection has its answer written, so that a
    /// closing or shutting-down connection never drops an answer it owes.</summary>
    private async Task DrainAsync()
    {
        var deadline = _options.WindowTimeout + TimeSpan.FromSeconds(5);
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            for (var i = 0; i < _options.MaxRequestsPerConnection; i++)
            {
                await _slots.WaitAsync(timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            // The write side is stuck (a client that stopped reading): give up on it.
        }
    }

    /// <summary>Writes and flushes one answer now, or queues it behind a flush still waiting on the client.
    /// A slot is released only once its answer is flushed: a client that does not read its answers stops
    /// being read.</summary>
    private void Write(in Outbound item)
    {
        var released = 0;
        lock (_writeLock)
        {
            if (_flushPending)
            {
                _queued.Enqueue(item);
                return;
            }
            released = WriteAndFlush(item);
        }
        if (released > 0) _slots.Release(released);
    }

    /// <summary>Under the write lock: writes <paramref name="first"/> and everything queued, then flushes. Returns
    /// the slots to release when the flush completed at once; otherwise a continuation releases them.</summary>
    private int WriteAndFlush(in Outbound first)
    {
        var output = _connection.Transport.Output;
        var slots = WriteOne(output, first);
        while (_queued.TryDequeue(out var next))
        {
            slots += WriteOne(output, next);
        }
        if (_broken) return slots;
        try
        {
            var flush = output.FlushAsync();
            if (flush.IsCompletedSuccessfully)
            {
                var result = flush.Result;
                _broken = result.IsCompleted || result.IsCanceled;
                return slots;
            }
            _flushPending = true;
            _flushing = FinishFlushAsync(flush, slots);
            return 0;
        }
        catch (Exception e) when (IsConnectionGone(e))
        {
            _broken = true;
            return slots;
        }
    }

    /// <summary>Runs on a gateway's thread: a connection going away must not throw into the gateway.</summary>
    private int WriteOne(PipeWriter output, in Outbound item)
    {
        if (!_broken)
        {
            try
            {
                if (item.IsError)
                {
                    FrameWriter.Write(output, item.RequestId, item.Error);
                }
                else
                {
                    FrameWriter.Write(output, item.RequestId, item.Response);
                }
            }
            catch (Exception e) when (IsConnectionGone(e))
            {
                _broken = true;
            }
        }
        return item.HoldsSlot ? 1 : 0;
    }

    private async Task FinishFlushAsync(ValueTask<FlushResult> flush, int slots)
    {
        var broken = false;
        try
        {
            var result = await flush.ConfigureAwait(false);
            broken = result.IsCompleted || result.IsCanceled;
        }
        catch (Exception e) when (IsConnectionGone(e))
        {
            broken = true;
        }
        var released = slots;
        lock (_writeLock)
        {
            _broken |= broken;
            _flushPending = false;
            if (_queued.TryDequeue(out var next))
            {
                released += WriteAndFlush(next);
            }
        }
        if (released > 0) _slots.Release(released);
    }

    private static bool IsConnectionGone(Exception e) =>
        e is IOException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException;

    private readonly record struct Outbound(uint RequestId, ActivationResponse Response, ErrorResponse Error, bool IsError, bool HoldsSlot);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} from {Remote} idle; closing")]
    private partial void LogIdle(string connectionId, System.Net.EndPoint? remote);
}
