using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Admin;

using KmsCluster.Client.Tests;

namespace KmsCluster.Cli.Tests;

/// <summary>
/// A node's admin API reduced to one fixed HTTP/1.1 answer, on a real loopback socket. The answer is a record of
/// KmsCluster.Protocol.Admin written by <see cref="AdminJson"/>, as the node writes it.
/// </summary>
public sealed class FakeAdminApi : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _serving;
    private readonly int _status;
    private readonly string _reason;

    private FakeAdminApi(int status, string reason, string body)
    {
        (_status, _reason, Body) = (status, reason, body);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Address = new ServerAddress("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port);
        _serving = ServeAsync();
    }

    public static FakeAdminApi Start<T>(T document, JsonTypeInfo<T> type, int status = 200, string reason = "OK") =>
        new(status, reason, JsonSerializer.Serialize(document, type));

    /// <summary>An error answer, as the node gives with 404, 409 or 503.</summary>
    public static FakeAdminApi Error(int status, string reason, string error) =>
        Start(new ErrorJson(error), AdminJson.Http.ErrorJson, status, reason);

    public ServerAddress Address { get; }

    /// <summary>The JSON it answers with.</summary>
    public string Body { get; }

    /// <summary>Whole request heads received (request line and headers).</summary>
    public ConcurrentQueue<string> Heads { get; } = new();

    /// <summary>Request lines received, e.g. "GET /api/v1/cluster HTTP/1.1".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    private async Task ServeAsync()
    {
        try
        {
            while (true)
            {
                using var socket = await _listener.AcceptSocketAsync(_stopping.Token);
                await using var stream = new NetworkStream(socket);
                var head = await ReadHeadAsync(stream);
                Requests.Enqueue(head.Split("\r\n")[0]);
                Heads.Enqueue(head);
                var body = Encoding.UTF8.GetBytes(Body);
                var header = $"HTTP/1.1 {_status} {_reason}\r\nContent-Type: application/json; charset=utf-8\r\n" +
                             $"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(header), _stopping.Token);
                await stream.WriteAsync(body, _stopping.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    /// <summary>Reads up to the blank line that ends the request head (a GET has no body).</summary>
    private async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var buffer = new byte[1024];
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, _stopping.Token);
            if (read == 0) break;
            head.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return head.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Stop();
        await _serving;
        _stopping.Dispose();
    }
}
