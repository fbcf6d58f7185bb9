using System.Diagnostics;
using System.IO.Pipelines;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Licensing;
using KmsCluster.Node.Limits;
using KmsCluster.Protocol.Transport;
using KmsCluster.Protocol.Wire;
using Microsoft.AspNetCore.Connections;

namespace KmsCluster.Node.Activation;

/// <summary>
/// One client connection over a duplex pipe (Kestrel's <c>connection.Transport</c>). The read loop parses every
/// complete frame of a read, answers bad ones at once and submits good ones. Answers come back from the
/// gateways on their own threads and go straight into the connection's <see cref="OutboundFrameWriter"/>, which
/// writes and flushes them on that thread (no hop) and gives the request's slot back once flushed. At most
/// <see cref="SessionLimits.MaxRequestsInFlight"/> requests are in flight: beyond that the session stops reading,
/// which pushes back on the client. A frame whose envelope is broken gets an error and the connection closes
/// after it (nothing after it can be trusted); a bad body or an unknown version only costs that one request.
/// A frame whose first byte came must be complete within <see cref="SessionLimits.FrameTimeout"/>, however steadily
/// its bytes trickle in; every frame passes <see cref="RequestAdmission"/> (rate per source, pending on the node).
/// A source over its rate is not read again until its retry hint has passed.
/// </summary>
internal sealed class ActivationSession : IResponseSink
{
    /// <summary>Frames of one read answered server-busy for their source's rate before the session holds off until
    /// the retry hint; a pipelining client over its rate gets this many refusals per hint, the rest waits.</summary>
    internal const int OverRateAnswersPerRead = 64;

    private readonly IDuplexPipe _transport;
    private readonly ActivationService _service;
    private readonly SessionLimits _limits;
    private readonly RequestSlots _slots;
    private readonly RequestAdmission _admission;
    private readonly LimitStats _limitStats;
    private readonly OutboundFrameWriter _answers;
    private readonly Lock _certificateGate = new();
    private CertifiedKey[] _certificatesSent = []; // replaced whole under the gate, read without it

    public ActivationSession(IDuplexPipe transport, ActivationService service, SessionLimits limits, RequestAdmission admission,
        LimitStats limitStats, System.Net.EndPoint? remote = null)
    {
        Remote = remote;
        _transport = transport;
        _service = service;
        _limits = limits;
        _admission = admission;
        _limitStats = limitStats;
        _slots = new RequestSlots(limits.MaxRequestsInFlight);
        _answers = new OutboundFrameWriter(transport.Output, FlushTiming.Immediate, flushed: count =>
        {
            _slots.Return(count);
            _admission.Answered(count);
        });
    }

    /// <summary>Serves the connection until the client closes it, breaks the stream, stays idle or
    /// <paramref name="stop"/> fires; then writes the answers still owed (within the drain timeout).</summary>
    public async Task<SessionEnd> RunAsync(CancellationToken stop)
    {
        try
        {
            return await ReadLoopAsync(stop);
        }
        finally
        {
            await _slots.AllReturnedAsync(_limits.DrainTimeout);
            // A closing error holds no slot, so draining does not cover its flush.
            await _answers.FlushedAsync(TimeSpan.FromSeconds(5));
            // The transport completes the output once this returns: an answer arriving later (after a drain that
            // gave up on a client that stopped reading) is dropped, not written to a completed pipe.
            _answers.Close();
        }
    }

    public System.Net.EndPoint? Remote { get; }

    public void Send(uint requestId, in ActivationResponse response) => _answers.Write(requestId, response);

    public void SendError(uint requestId, in ErrorResponse error, byte version = ProtocolConstants.Version) =>
        _answers.Write(requestId, error, version: version);

    /// <summary>Sends the certificate first when this connection has not had it: under a lock, so that an answer
    /// another thread writes after seeing it marked sent can never overtake it.</summary>
    public void SendSigned(uint requestId, CertifiedKey key, in SignedActivationResponse answer)
    {
        if (Array.IndexOf(Volatile.Read(ref _certificatesSent), key) < 0)
        {
            lock (_certificateGate)
            {
                if (Array.IndexOf(_certificatesSent, key) < 0)
                {
                    _answers.Write(requestId, key.Message, counted: false);
                    _answers.Write(requestId, answer);
                    Volatile.Write(ref _certificatesSent, [.. _certificatesSent, key]);
                    return;
                }
            }
        }
        _answers.Write(requestId, answer);
    }

    /// <summary>An error about the stream itself, sent without a slot just before the connection closes.</summary>
    private void SendStreamError(uint requestId, in ErrorResponse error) => _answers.Write(requestId, error, counted: false);

    private async Task<SessionEnd> ReadLoopAsync(CancellationToken stop)
    {
        var input = _transport.Input;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(stop);
        long frameStarted = 0; // when the first byte of the frame still incomplete came (Stopwatch); 0: none
        while (true)
        {
            // Idle counts silence; the frame timeout counts from a frame's first byte, so trickling bytes (each of
            // which resets the idle timer) cannot hold a connection open.
            var wait = _limits.IdleTimeout;
            var frameDue = false;
            if (frameStarted != 0)
            {
                var left = _limits.FrameTimeout - Stopwatch.GetElapsedTime(frameStarted);
                if (left <= wait)
                {
                    (wait, frameDue) = (left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1), true);
                }
            }
            idle.CancelAfter(wait);
            ReadResult result;
            try
            {
                result = await input.ReadAsync(idle.Token);
            }
            catch (OperationCanceledException)
            {
                if (stop.IsCancellationRequested) return SessionEnd.Stopped;
                if (!frameDue) return SessionEnd.Idle;
                _limitStats.FrameTimedOut();
                SendStreamError(0, _service.RefusedFrame(ErrorCode.MalformedRequest,
                    $"a frame did not complete within {_limits.FrameTimeout.TotalSeconds:0.###} s of its first byte; closing the connection", this, 0, closing: true));
                return SessionEnd.FrameTimeout;
            }
            catch (Exception e) when (e is IOException or ConnectionResetException or ConnectionAbortedException)
            {
                return SessionEnd.Closed;
            }

            var buffer = result.Buffer;
            var close = false;
            var frames = 0;
            TimeSpan? holdOff = null; // set when the source went over its rate: when its bucket has a token again
            var overRate = 0;
            try
            {
                while (FrameReader.TryParse(buffer, out var consumed, out _, out var frame))
                {
                    if (overRate >= OverRateAnswersPerRead)
                    {
                        break; // the rest stays in the pipe, then in TCP, until the hint has passed
                    }
                    if (!await _slots.TakeAsync(stop))
                    {
                        close = true;
                        break;
                    }
                    if (Admit(frame) is { } hint)
                    {
                        holdOff ??= hint;
                        overRate++;
                    }
                    frames++;
                    buffer = buffer.Slice(consumed);
                }
            }
            catch (FrameException e)
            {
                // The envelope is broken: nothing after it can be trusted. Answer and close.
                _limitStats.BrokenStream();
                SendStreamError(e.RequestId, _service.RefusedFrame(e.Code, e.Message + "; closing the connection", this, 0, closing: true));
                close = true;
            }
            // What is left is the start of the next frame: it started in this read when a frame ended in it.
            frameStarted = buffer.IsEmpty ? 0 : frameStarted == 0 || frames > 0 ? Stopwatch.GetTimestamp() : frameStarted;

            if (holdOff is { } retryAfter && !close)
            {
                // A source over its rate was told when to retry: what else it sends is read only after that, so a
                // request flood costs the node a bounded number of answers per hint, not one per request it pipelines.
                input.AdvanceTo(buffer.Start); // frames held back are complete: the next read must see them at once
                _limitStats.HeldOff();
                try
                {
                    await Task.Delay(retryAfter, stop);
                }
                catch (OperationCanceledException)
                {
                    return SessionEnd.Stopped;
                }
                continue;
            }

            if (result.IsCompleted && !close && !buffer.IsEmpty)
            {
                SendStreamError(0, _service.RefusedFrame(ErrorCode.MalformedRequest,
                    $"connection ended inside a frame ({buffer.Length} bytes of an incomplete frame)", this, 0));
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (close || result.IsCompleted || result.IsCanceled)
            {
                return stop.IsCancellationRequested ? SessionEnd.Stopped : SessionEnd.Closed;
            }
        }
    }

    /// <summary>Serves a frame, or answers it server-busy when its source is over its rate or the node is full.
    /// Returns the retry hint when the source is over its rate (the read loop then holds off).</summary>
    private TimeSpan? Admit(in Frame frame)
    {
        if (_admission.Admit() is { } busy)
        {
            SendError(frame.RequestId, _service.Busy(busy.Message, busy.RetryAfter, this, frame.Version), frame.Version);
            return busy.OverSourceRate ? busy.RetryAfter : null;
        }
        Handle(frame);
        return null;
    }

    /// <summary>Answers or submits one frame; each frame holds one slot until its answer is written. A v1 request is
    /// served only with --allow-unsigned; refusals go in the envelope version of the request.</summary>
    private void Handle(in Frame frame)
    {
        var signed = frame.Version == ProtocolConstants.SignedVersion;
        if (frame.Version == ProtocolConstants.Version && !_service.AllowsUnsigned)
        {
            SendError(frame.RequestId, _service.RefusedFrame(ErrorCode.UnsupportedVersion,
                "this host signs its answers: use protocol v2 (protocol v1 answers are unsigned, so a client cannot tell this host from an impostor)", this, frame.Version));
            return;
        }
        if (!signed && frame.Version != ProtocolConstants.Version)
        {
            SendError(frame.RequestId, _service.RefusedFrame(ErrorCode.UnsupportedVersion,
                $"protocol version {frame.Version} is not supported; this host speaks version 2{(_service.AllowsUnsigned ? " and version 1" : "")}", this, frame.Version));
            return;
        }
        var version = frame.Version;
        if (frame.Type != MessageType.ActivationRequest)
        {
            SendError(frame.RequestId, _service.RefusedFrame(ErrorCode.UnknownMessageType,
                $"message type {(byte)frame.Type} is not a request a host accepts", this, frame.Version), version);
            return;
        }
        Span<byte> scratch = stackalloc byte[ProtocolConstants.MaxBodySize];
        var body = frame.BodySpan(scratch);
        ActivationRequest request;
        UInt128? nonce = null;
        bool decoded;
        string problem;
        if (signed)
        {
            decoded = SignedActivationRequest.TryRead(body, out var v2, out problem);
            (nonce, request) = (v2.Nonce, v2.Request);
        }
        else
        {
            decoded = ActivationRequest.TryRead(body, out request, out problem);
        }
        if (!decoded)
        {
            SendError(frame.RequestId, _service.RefusedFrame(ErrorCode.MalformedRequest, problem, this, frame.Version), version);
            return;
        }
        if (_service.Submit(frame.RequestId, request, nonce, this) is { } refusal)
        {
            SendError(frame.RequestId, refusal, version);
        }
    }
}

/// <summary>Why a session ended.</summary>
internal enum SessionEnd
{
    /// <summary>The client closed the connection, or broke the stream and was answered and closed.</summary>
    Closed,

    /// <summary>Nothing arrived within the idle timeout.</summary>
    Idle,

    /// <summary>The server is shutting down or asked the connection to close.</summary>
    Stopped,

    /// <summary>A frame that had started did not complete within the frame timeout.</summary>
    FrameTimeout,
}

/// <summary>What a session needs of the node's options.</summary>
/// <param name="MaxRequestsInFlight">Requests of one connection taken before their answers are written.</param>
/// <param name="IdleTimeout">A connection that sends nothing for this long is closed.</param>
/// <param name="DrainTimeout">How long a closing connection waits for the answers it owes.</param>
/// <param name="FrameTimeout">A frame must be complete this long after its first byte came.</param>
internal readonly record struct SessionLimits(int MaxRequestsInFlight, TimeSpan IdleTimeout, TimeSpan DrainTimeout, TimeSpan FrameTimeout)
{
    // An answer owed comes within the window timeout (a retryable error at worst); give the write 5 s more.
    public static SessionLimits From(NodeOptions options) =>
        new(options.MaxRequestsPerConnection, options.IdleTimeout, options.WindowTimeout + TimeSpan.FromSeconds(5), options.Limits.FrameTimeout);
}
