using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Connection;

/// <summary>
/// Sends each request on a TCP connection of its own, as KMS clients do: connect, send the request, read its
/// answer, close. One exchange at a time (a load generator keeps one per worker). Everything but the socket is
/// kept from one exchange to the next: the request and answer buffers, the socket event args, the timeout timer
/// and the server's resolved address; failures come back as a <see cref="PerRequestOutcome"/>, not as exceptions.
/// </summary>
/// <remarks>
/// Frames are written by <see cref="FrameWriter"/> and read by <see cref="FrameReader"/> and
/// <see cref="ActivationResult.FromFrame"/>, as on a <see cref="KmsConnection"/>. Its OutboundFrameWriter and
/// pipes are not used: they let many requests share a connection, and a connection that carries one request
/// needs neither bursts of writes nor a read loop.
/// </remarks>
public sealed class ConnectPerRequestClient : IDisposable
{
    // Each connection carries one request, so every request can have the same id (0 is the host's, for stream errors).
    private const uint RequestId = 1;

    // Closing with SO_LINGER 0 sends a reset instead of a FIN, so no TIME_WAIT is left on either side. The client
    // closes first, so an orderly close leaves each connection in TIME_WAIT on the client for 60 s, holding one of
    // the 28,232 ephemeral ports (Linux default). Measured against kms-echo at about 11,000 connections/s: orderly
    // closes kept about 14,000 sockets in TIME_WAIT, resets none beyond the machine's background, at the same
    // throughput. Loopback got by only because Linux reuses TIME_WAIT ports there after a second (tcp_tw_reuse=2);
    // towards another machine orderly closes run out of ports at about 470 connections/s (28,232 / 60 s).
    // Spreading over 127.0.0.x source addresses would help on loopback only.
    private static readonly LingerOption ResetOnClose = new(enable: true, seconds: 0);

    private readonly SocketOperation _operation = new();
    private readonly ArrayBufferWriter<byte> _request = new(ProtocolConstants.MaxFrameSize);
    // Room for a host certificate frame and the answer behind it (v2).
    private readonly byte[] _answer = new byte[2 * ProtocolConstants.MaxFrameSize];
    private readonly byte _version;
    private UInt128 _nonce;
    private readonly IConnectObserver? _observer;
    private readonly Timer _timer;
    private readonly Lock _gate = new();
    // Under _gate: the exchange's socket, so the timer, the caller's cancellation and Dispose can close it under it.
    private Socket? _socket;
    private long _deadline;
    private ExchangeFailure _abort; // why the socket was closed under the exchange (AnswerTimeout: timed out)
    private bool _disposed;
    // The last server and where it was reached: a name is resolved once, not per connection.
    private ServerAddress? _server;
    private EndPoint? _endPoint;

    /// <param name="observer">Told of every connection opened or failed (e.g. a load generator's statistics).</param>
    /// <param name="version">The protocol to speak: 2 (a nonce per request, signed answers; the default) or 1.</param>
    public ConnectPerRequestClient(IConnectObserver? observer = null, byte version = ProtocolConstants.SignedVersion)
    {
        _observer = observer;
        _version = version;
        _timer = new Timer(static state => ((ConnectPerRequestClient)state!).OnTimer(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>The last exchange got its connection open (false: it failed, or was cancelled, while connecting).</summary>
    public bool LastExchangeConnected { get; private set; }

    /// <summary>Connects to <paramref name="server"/>, sends <paramref name="request"/>, reads its answer and closes.</summary>
    /// <param name="connectTimeout">Longest wait for the connection to open (then <see cref="ExchangeFailure.ConnectTimeout"/>).</param>
    /// <param name="timeout">Longest wait for the answer once connected (then <see cref="ExchangeFailure.AnswerTimeout"/>).</param>
    /// <exception cref="ArgumentException">the request cannot be encoded; nothing was sent.</exception>
    public ValueTask<PerRequestOutcome> ActivateAsync(ServerAddress server, in ActivationRequest request, TimeSpan connectTimeout,
        TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        _request.ResetWrittenCount();
        if (_version == ProtocolConstants.SignedVersion)
        {
            _nonce = SignedActivationRequest.NewNonce();
            FrameWriter.Write(_request, RequestId, new SignedActivationRequest(_nonce, request));
        }
        else
        {
            FrameWriter.Write(_request, RequestId, request);
        }
        return ExchangeAsync(server, connectTimeout, timeout, cancellationToken);
    }

    // Pooled: the state machine of an exchange is reused, not allocated per request.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<PerRequestOutcome> ExchangeAsync(ServerAddress server, TimeSpan connectTimeout, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        LastExchangeConnected = false;
        var endPoint = EndPointOf(server);
        var socket = endPoint is IPEndPoint ip
            ? new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
            : new Socket(SocketType.Stream, ProtocolType.Tcp);
        if (!Begin(socket, connectTimeout))
        {
            socket.Dispose();
            return new PerRequestOutcome(default, ExchangeFailure.Aborted);
        }
        using var cancellation = cancellationToken.UnsafeRegister(
            static state => ((ConnectPerRequestClient)state!).Abort(ExchangeFailure.Cancelled), this);
        var connected = false;
        try
        {
            var started = Stopwatch.GetTimestamp();
            _operation.RemoteEndPoint = endPoint;
            _operation.SetBuffer(Memory<byte>.Empty);
            var error = await _operation.ConnectAsync(socket);
            if (error != SocketError.Success)
            {
                return Failed(error, connected);
            }
            connected = LastExchangeConnected = true;
            _observer?.Connected(Stopwatch.GetTimestamp() - started);
            Remember(server, endPoint, socket);
            socket.NoDelay = true;
            Extend(timeout);

            var unsent = MemoryMarshal.AsMemory(_request.WrittenMemory);
            while (!unsent.IsEmpty)
            {
                _operation.SetBuffer(unsent);
                if ((error = await _operation.SendAsync(socket)) != SocketError.Success)
                {
                    return Failed(error, connected);
                }
                unsent = unsent[_operation.BytesTransferred..];
            }

            var received = 0;
            var start = 0;
            var certificates = new Verification.ConnectionCertificates();
            while (true)
            {
                // A frame is at most 4096 bytes (FrameReader refuses longer ones): the buffer holds a certificate and
                // the answer after it.
                var unread = new ReadOnlySequence<byte>(_answer, start, received - start);
                while (FrameReader.TryParse(unread, out var consumed, out _, out var frame))
                {
                    if (!certificates.TryKeep(frame))
                    {
                        return new PerRequestOutcome(certificates.Complete(ActivationResult.FromFrame(frame), _nonce), ExchangeFailure.None);
                    }
                    start += (int)unread.GetOffset(consumed);
                    unread = new ReadOnlySequence<byte>(_answer, start, received - start);
                }
                if (received == _answer.Length)
                {
                    return new PerRequestOutcome(default, ExchangeFailure.ProtocolBroken);
                }
                _operation.SetBuffer(_answer.AsMemory(received));
                if ((error = await _operation.ReceiveAsync(socket)) != SocketError.Success)
                {
                    return Failed(error, connected);
                }
                if (_operation.BytesTransferred == 0)
                {
                    return Failed(SocketError.Success, connected);
                }
                received += _operation.BytesTransferred;
            }
        }
        catch (FrameException)
        {
            return new PerRequestOutcome(default, ExchangeFailure.ProtocolBroken);
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            // Closed under the exchange between two operations, or an option refused on a socket the host reset.
            return Failed(e is SocketException s ? s.SocketErrorCode : SocketError.OperationAborted, connected);
        }
        finally
        {
            End(socket);
        }
    }

    private PerRequestOutcome Failed(SocketError error, bool connected)
    {
        ExchangeFailure abort;
        lock (_gate)
        {
            abort = _abort;
        }
        var failure = abort switch
        {
            ExchangeFailure.AnswerTimeout => connected ? ExchangeFailure.AnswerTimeout : ExchangeFailure.ConnectTimeout,
            not ExchangeFailure.None => abort,
            _ when connected => error == SocketError.Success ? ExchangeFailure.Closed : ExchangeFailure.ConnectionLost,
            _ => error switch
            {
                SocketError.ConnectionRefused => ExchangeFailure.ConnectRefused,
                SocketError.ConnectionReset => ExchangeFailure.ConnectReset,
                SocketError.TimedOut => ExchangeFailure.ConnectTimeout,
                SocketError.AddressNotAvailable => ExchangeFailure.ConnectNoLocalPort,
                _ => ExchangeFailure.ConnectOther,
            },
        };
        if (failure.IsConnectFailure())
        {
            _server = null; // resolve the name again next time: the host may have moved
            _observer?.ConnectFailed(failure);
        }
        return new PerRequestOutcome(default, failure, error);
    }

    private EndPoint EndPointOf(ServerAddress server)
    {
        if (_endPoint is not null && server == _server)
        {
            return _endPoint;
        }
        _server = server;
        return _endPoint = IPAddress.TryParse(server.Host, out var address)
            ? new IPEndPoint(address, server.Port)
            : new DnsEndPoint(server.Host, server.Port);
    }

    /// <summary>After connecting by name: the address that answered, for the next connections.</summary>
    private void Remember(ServerAddress server, EndPoint endPoint, Socket socket)
    {
        if (endPoint is DnsEndPoint && socket.RemoteEndPoint is IPEndPoint reached)
        {
            // A dual-mode socket reports an IPv4 host as IPv4-mapped IPv6; an IPv4 socket reaches it directly.
            _endPoint = reached.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(reached.Address.MapToIPv4(), reached.Port) : reached;
            _server = server;
        }
    }

    private bool Begin(Socket socket, TimeSpan connectTimeout)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }
            _socket = socket;
            _abort = ExchangeFailure.None;
            _deadline = Stopwatch.GetTimestamp() + (long)(connectTimeout.TotalSeconds * Stopwatch.Frequency);
        }
        Arm(connectTimeout);
        return true;
    }

    private void Extend(TimeSpan timeout)
    {
        lock (_gate)
        {
            _deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        }
        Arm(timeout);
    }

    private void Arm(TimeSpan due)
    {
        try
        {
            _timer.Change(due, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: Dispose closes the socket itself.
        }
    }

    private void End(Socket socket)
    {
        bool closedUnderUs;
        bool disposed;
        lock (_gate)
        {
            closedUnderUs = _abort != ExchangeFailure.None;
            disposed = _disposed;
            _socket = null;
        }
        // The timer is left armed: when it fires it finds no socket (or a later exchange's deadline not yet reached).
        if (!closedUnderUs)
        {
            try
            {
                socket.LingerState = ResetOnClose;
            }
            catch (SocketException)
            {
            }
        }
        socket.Dispose();
        if (disposed)
        {
            _operation.Dispose();
        }
    }

    private void OnTimer()
    {
        lock (_gate)
        {
            if (_socket is null || _abort != ExchangeFailure.None)
            {
                return;
            }
            var left = _deadline - Stopwatch.GetTimestamp();
            if (left > 0)
            {
                // A stale firing, or the timer's millisecond clock ran ahead of the stopwatch: wait for the rest.
                Arm(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency) + TimeSpan.FromMilliseconds(1));
                return;
            }
        }
        Abort(ExchangeFailure.AnswerTimeout);
    }

    /// <summary>Closes the socket of the exchange in progress; its pending operation fails at once.</summary>
    private void Abort(ExchangeFailure why)
    {
        Socket? socket;
        lock (_gate)
        {
            socket = _abort == ExchangeFailure.None ? _socket : null;
            if (socket is not null)
            {
                _abort = why;
            }
        }
        socket?.Dispose();
    }

    /// <summary>Ends an exchange in progress (<see cref="ExchangeFailure.Aborted"/>) and every later one.</summary>
    public void Dispose()
    {
        bool idle;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            idle = _socket is null;
        }
        if (idle)
        {
            _operation.Dispose();
        }
        else
        {
            Abort(ExchangeFailure.Aborted);
        }
        _timer.Dispose();
    }
}
