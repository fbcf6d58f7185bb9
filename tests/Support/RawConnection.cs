using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Testing;

/// <summary>A bare TCP connection for sending arbitrary bytes and reading whatever frames come back.</summary>
public sealed class RawConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _input;

    private RawConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _input = PipeReader.Create(_stream);
    }

    public static async Task<RawConnection> OpenAsync(int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync("127.0.0.1", port);
        return new RawConnection(socket);
    }

    /// <summary>Connects to 127.0.0.1:<paramref name="port"/> from <paramref name="source"/> (any 127.0.0.x on Linux
    /// loopback), so that one test can be several client addresses.</summary>
    public static async Task<RawConnection> OpenFromAsync(System.Net.IPAddress source, int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new System.Net.IPEndPoint(source, 0));
            await socket.ConnectAsync("127.0.0.1", port);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new RawConnection(socket);
    }

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    public async Task SendRequestAsync(uint requestId, ActivationRequest request) =>
        await SendAsync(Encode(requestId, request));

    public static byte[] Encode(uint requestId, ActivationRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>();
        FrameWriter.Write(buffer, requestId, request);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads the next frame; null when the host closed the connection.</summary>
    public async Task<Reply?> ReadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var result = await _input.ReadAsync(cts.Token);
            var buffer = result.Buffer;
            if (FrameReader.TryParse(buffer, out var consumed, out var examined, out var frame))
            {
                var reply = Reply.From(frame);
                _input.AdvanceTo(consumed);
                return reply;
            }
            _input.AdvanceTo(consumed, examined);
            if (result.IsCompleted) return null;
        }
    }

    /// <summary>True when the host closes the connection (end of stream) within the timeout.</summary>
    public async Task<bool> ClosedByHostAsync(TimeSpan timeout)
    {
        try
        {
            return await ReadAsync(timeout) is null;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return true; // reset
        }
    }

    /// <summary>True when a connection from <paramref name="source"/> is refused by the host: reset while it connects,
    /// or closed (end of stream or reset) before it has sent anything, within the timeout.</summary>
    public static async Task<bool> RefusedFromAsync(System.Net.IPAddress source, int port, TimeSpan timeout)
    {
        RawConnection connection;
        try
        {
            connection = await OpenFromAsync(source, port);
        }
        catch (SocketException)
        {
            return true; // the reset overtook the end of the connect
        }
        await using (connection)
        {
            return await connection.ClosedByHostAsync(timeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _input.CompleteAsync();
        _socket.Dispose();
    }
}

/// <summary>A decoded frame from the host.</summary>
public sealed record Reply(uint RequestId, ActivationResponse? Response, ErrorResponse? Error)
{
    public static Reply From(in Frame frame)
    {
        var body = frame.Body.ToArray();
        if (frame.Type == MessageType.ActivationResponse && ActivationResponse.TryRead(body, out var response, out _))
        {
            return new Reply(frame.RequestId, response, null);
        }
        if (frame.Type == MessageType.Error && ErrorResponse.TryRead(body, out var error, out _))
        {
            return new Reply(frame.RequestId, null, error);
        }
        throw new InvalidOperationException($"host sent an undecodable frame of type {frame.Type}");
    }
}
