using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Tests;

/// <summary>What a <see cref="FakeKmsHost"/> does with one request.</summary>
public abstract record HostReply
{
    public static readonly HostReply Answer = new AnswerReply();
    public static readonly HostReply Silence = new SilenceReply();
    public static readonly HostReply CloseConnection = new CloseReply(StopListening: false);
    /// <summary>Drops the connection and stops listening, as a node that crashed.</summary>
    public static readonly HostReply Crash = new CloseReply(StopListening: true);

    public static HostReply Error(ErrorCode code, string message = "", uint retryAfterMilliseconds = 0) =>
        new ErrorReply(code, message, retryAfterMilliseconds);

    public sealed record AnswerReply : HostReply;
    public sealed record SilenceReply : HostReply;
    public sealed record CloseReply(bool StopListening) : HostReply;
    public sealed record ErrorReply(ErrorCode Code, string Message, uint RetryAfterMilliseconds = 0) : HostReply;
}

/// <summary>
/// A KmsCluster host on a real loopback socket whose answers each test scripts: a response (with the host's
/// name in it, so a test sees who answered), an error, silence, or a closed connection.
/// </summary>
public sealed class FakeKmsHost : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Socket> _connections = [];
    private readonly Task _accepting;
    private int _requests;
    private int _accepted;
    private int _open;
    private int _listening = 1;

    private FakeKmsHost(string name, Func<int, HostReply> reply)
    {
        Name = name;
        Reply = reply;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Address = new ServerAddress("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port);
        _accepting = AcceptLoopAsync();
    }

    /// <summary>Starts a host; <paramref name="reply"/> gets the 1-based number of the request across connections.</summary>
    public static FakeKmsHost Start(string name, Func<int, HostReply> reply) => new(name, reply);

    public static FakeKmsHost Start(string name, HostReply reply) => new(name, _ => reply);

    /// <summary>An address where nothing listens: the port of a listener that was just closed.</summary>
    public static ServerAddress Unused()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new ServerAddress("127.0.0.1", port);
    }

    public string Name { get; }
    public ServerAddress Address { get; }

    /// <summary>Can change while the host runs; requests read after the change see it.</summary>
    public Func<int, HostReply> Reply { get; set; }

    public int RequestsReceived => Volatile.Read(ref _requests);
    public int ConnectionsAccepted => Volatile.Read(ref _accepted);

    /// <summary>Connections accepted and not closed yet, by either side.</summary>
    public int OpenConnections => Volatile.Read(ref _open);

    /// <summary>Closes every open connection, as a node does to idle clients; keeps listening.</summary>
    public void DropConnections()
    {
        lock (_connections)
        {
            foreach (var socket in _connections)
            {
                socket.Dispose();
            }
            _connections.Clear();
        }
    }

    /// <summary>Stops listening: new connections are refused. Open connections stay.</summary>
    public void StopListening()
    {
        if (Interlocked.Exchange(ref _listening, 0) == 1)
        {
            _listener.Stop();
        }
    }

    public static ActivationResponse ResponseFrom(string hostName, in ActivationRequest request) => new(
        request.ClientMachineId, Guid.NewGuid(), hostName, DateTimeOffset.UtcNow, CurrentCount: 1, Threshold: 5,
        Activated: false, ValidUntil: null, ActivationIntervalMinutes: 120, RenewalIntervalMinutes: 10080);

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stopping.Token);
                Interlocked.Increment(ref _accepted);
                Interlocked.Increment(ref _open);
                lock (_connections)
                {
                    _connections.Add(socket);
                }
                _ = ServeAsync(socket);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped listening (TcpListener says "not listening" when stopped between two accepts).
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var input = PipeReader.Create(stream);
        var output = PipeWriter.Create(stream);
        try
        {
            while (true)
            {
                var read = await input.ReadAsync(_stopping.Token);
                var buffer = read.Buffer;
                while (FrameReader.TryParse(buffer, out var consumed, out _, out var frame))
                {
                    var requestId = frame.RequestId;
                    // A v2 request is a nonce and then the v1 body; these fakes answer unsigned (v1) either way.
                    var body = frame.Body.ToArray().AsSpan(frame.Version == ProtocolConstants.SignedVersion ? SignedActivationRequest.NonceSize : 0).ToArray();
                    buffer = buffer.Slice(consumed);
                    // A request the codec refuses gets a non-retryable error, which fails the test that sent it.
                    var reply = ActivationRequest.TryRead(body, out var request, out var problem)
                        ? Reply(Interlocked.Increment(ref _requests))
                        : HostReply.Error(ErrorCode.MalformedRequest, problem);
                    switch (reply)
                    {
                        case HostReply.AnswerReply:
                            FrameWriter.Write(output, requestId, ResponseFrom(Name, request));
                            break;
                        case HostReply.ErrorReply error:
                            FrameWriter.Write(output, requestId, new ErrorResponse(error.Code, error.RetryAfterMilliseconds, error.Message));
                            break;
                        case HostReply.SilenceReply:
                            break;
                        case HostReply.CloseReply close:
                            if (close.StopListening)
                            {
                                StopListening();
                            }
                            socket.Close(0);
                            return;
                    }
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                await output.FlushAsync(_stopping.Token);
                if (read.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The client went away or the host stops.
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        StopListening();
        lock (_connections)
        {
            foreach (var socket in _connections)
            {
                socket.Dispose();
            }
        }
        await _accepting;
        _stopping.Dispose();
    }
}
