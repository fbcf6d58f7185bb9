using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KmsCluster.Client.Verification;
using KmsCluster.Protocol.Transport;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Connection;

/// <summary>
/// One TCP connection to a KmsCluster host with any number of requests in flight. Requests get ids from a
/// counter; each caller writes its request through the connection's <see cref="OutboundFrameWriter"/>, and the
/// requests of a burst go out in one flush on the thread pool; a read loop matches answers to requests by id.
/// Thread-safe: many callers may activate through one connection at once.
/// </summary>
public sealed class KmsConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly ConcurrentDictionary<uint, Pending> _pending = new();
    private readonly ConnectionCertificates _certificates = new();
    private readonly byte _version;
    private readonly OutboundFrameWriter _requests;
    private readonly CancellationTokenSource _closed = new();
    private readonly Task _reading;
    private int _nextRequestId;
    private Exception? _failure;

    private KmsConnection(Socket socket, EndPoint remote, byte version)
    {
        _version = version;
        _socket = socket;
        RemoteEndPoint = remote;
        var stream = new NetworkStream(socket, ownsSocket: true);
        _input = PipeReader.Create(stream);
        _output = PipeWriter.Create(stream);
        // A flush here is the send itself: callers' requests of one burst share one (flushing each on its caller's
        // thread cost a send per request and cut pipelined throughput against the echo to a quarter).
        _requests = new OutboundFrameWriter(_output, FlushTiming.AfterBurst,
            failed: e => Fail(new KmsConnectionException($"sending to {RemoteEndPoint} failed: {e.Message}", e)));
        _reading = Task.Run(ReadLoopAsync);
    }

    public EndPoint RemoteEndPoint { get; }

    /// <summary>True until the connection fails or is closed.</summary>
    public bool IsOpen => !_closed.IsCancellationRequested;

    /// <param name="version">The protocol to speak: 2 (a nonce per request, signed answers; the default) or 1 (unsigned).</param>
    public static async Task<KmsConnection> ConnectAsync(string host, int port, TimeSpan timeout,
        CancellationToken cancellationToken = default, byte version = ProtocolConstants.SignedVersion)
    {
        if (version is not (ProtocolConstants.Version or ProtocolConstants.SignedVersion))
        {
            throw new ArgumentOutOfRangeException(nameof(version), version, "protocol version 1 or 2");
        }
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectTimeout.CancelAfter(timeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, connectTimeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new KmsConnectionException($"cannot connect to {host}:{port}: no answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new KmsConnectionException($"cannot connect to {host}:{port}: {e.Message}", e);
        }
        catch (OperationCanceledException)
        {
            socket.Dispose();
            throw;
        }
        return new KmsConnection(socket, socket.RemoteEndPoint ?? new DnsEndPoint(host, port), version);
    }

    /// <summary>Sends one request (v2: with a new nonce) and waits for its answer; a v2 answer carries its
    /// <see cref="ActivationResult.Signed"/> proof, not yet verified.</summary>
    /// <exception cref="TimeoutException">no answer within <paramref name="timeout"/>.</exception>
    /// <exception cref="KmsConnectionException">the connection failed before the answer came.</exception>
    public async Task<ActivationResult> ActivateAsync(ActivationRequest request, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        var requestId = NextRequestId();
        var answer = new TaskCompletionSource<ActivationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var nonce = _version == ProtocolConstants.SignedVersion ? SignedActivationRequest.NewNonce() : 0;
        _pending[requestId] = new Pending(answer, nonce);
        bool sent;
        try
        {
            sent = _failure is null && (_version == ProtocolConstants.SignedVersion
                ? _requests.Write(requestId, new SignedActivationRequest(nonce, request))
                : _requests.Write(requestId, request));
        }
        catch (ArgumentException)
        {
            // The request cannot be encoded (e.g. a workstation name too long); the writer checks before it
            // writes a byte, so only this caller fails, not the shared connection.
            _pending.TryRemove(requestId, out _);
            throw;
        }
        if (!sent)
        {
            _pending.TryRemove(requestId, out _);
            throw new KmsConnectionException($"connection to {RemoteEndPoint} is closed", _failure);
        }
        try
        {
            return await answer.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            _pending.TryRemove(requestId, out _);
            throw new TimeoutException($"no answer from {RemoteEndPoint} within {timeout.TotalSeconds:0.#} s");
        }
        catch (OperationCanceledException)
        {
            _pending.TryRemove(requestId, out _);
            throw;
        }
    }

    /// <summary>Ids count up from 1 and skip 0 when they wrap: the host uses 0 for errors about the stream.</summary>
    private uint NextRequestId()
    {
        while (true)
        {
            var id = unchecked((uint)Interlocked.Increment(ref _nextRequestId));
            if (id != 0) return id;
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync(_closed.Token);
                var buffer = result.Buffer;
                while (FrameReader.TryParse(buffer, out var consumed, out _, out var frame))
                {
                    Deliver(frame);
                    buffer = buffer.Slice(consumed);
                }
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    Fail(new KmsConnectionException($"{RemoteEndPoint} closed the connection"));
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            Fail(new KmsConnectionException($"connection to {RemoteEndPoint} closed"));
        }
        catch (FrameException e)
        {
            Fail(new KmsConnectionException($"{RemoteEndPoint} broke the protocol: {e.Message}", e));
        }
        catch (Exception e)
        {
            Fail(new KmsConnectionException($"receiving from {RemoteEndPoint} failed: {e.Message}", e));
        }
    }

    private void Deliver(in Frame frame)
    {
        if (_certificates.TryKeep(frame))
        {
            return;
        }
        var result = ActivationResult.FromFrame(frame);
        if (result.IsError && frame.RequestId == 0)
        {
            // An error about the stream itself (the host closes after it): fail everything waiting.
            // (An error for an id nobody waits for is a late answer to a request that timed out.)
            Fail(new KmsConnectionException($"{RemoteEndPoint} refused the stream: {result.Error.Code.Name()}: {result.Error.Message}"));
            return;
        }
        if (_pending.TryRemove(frame.RequestId, out var pending))
        {
            pending.Answer.TrySetResult(_certificates.Complete(result, pending.Nonce));
        }
    }

    private void Fail(Exception failure)
    {
        Interlocked.CompareExchange(ref _failure, failure, null);
        _requests.Close();
        foreach (var requestId in _pending.Keys)
        {
            if (_pending.TryRemove(requestId, out var pending))
            {
                pending.Answer.TrySetException(_failure!);
            }
        }
        if (!_closed.IsCancellationRequested)
        {
            try
            {
                _closed.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Fail(new KmsConnectionException($"connection to {RemoteEndPoint} closed by the client"));
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        var flushed = _requests.FlushedAsync(TimeSpan.FromSeconds(5));
        await Task.WhenAll(_reading, flushed).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
        // Completing with the failure discards bytes still buffered (requests that failed already) instead of
        // flushing them into a stream the reader may have disposed.
        await _output.CompleteAsync(_failure);
        await _input.CompleteAsync();
        _socket.Dispose();
        _closed.Dispose();
    }
}

/// <summary>A request waiting for its answer, and the nonce it was sent with (v2).</summary>
internal sealed record Pending(TaskCompletionSource<ActivationResult> Answer, UInt128 Nonce);
