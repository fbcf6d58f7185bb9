using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Tests;

/// <summary>
/// A counting KMS host on a real loopback socket for the load tests: it keeps the unique CMIDs per application
/// (no 30-day or 50-contact limits) and activates a client once that count reaches its product's threshold from
/// the default catalogue, as a real host does. It can delay every answer, answer one request at a time per
/// connection (a single server queue), refuse by script, and stop as a crashed node does.
/// </summary>
public sealed class LoadFakeHost : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Socket, byte> _connections = new();
    private readonly Dictionary<Guid, HashSet<Guid>> _windows = [];
    private readonly Task _accepting;
    private int _requests;
    private int _accepted;
    private int _listening = 1;

    public LoadFakeHost(string name = "load-fake")
    {
        Name = name;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Address = new ServerAddress("127.0.0.1", ((IPEndPoint)_listener.LocalEndpoint).Port);
        _accepting = AcceptLoopAsync();
    }

    public static LoadFakeHost Start(string name = "load-fake") => new(name);

    public string Name { get; }
    public ServerAddress Address { get; }

    /// <summary>Minutes sent as activation-interval and renewal-interval.</summary>
    public uint ActivationIntervalMinutes { get; init; } = 120;
    public uint RenewalIntervalMinutes { get; init; } = 10080;

    /// <summary>Every answer waits this long, independently of the others.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>When set, each connection answers one request at a time, each after this long: a single queue.</summary>
    public TimeSpan? ServiceTime { get; init; }

    /// <summary>Request number (1-based, across connections) to an error to answer instead, or null to answer.</summary>
    public Func<int, ErrorCode?> Refuse { get; init; } = _ => null;

    public int RequestsReceived => Volatile.Read(ref _requests);

    public int ConnectionsAccepted => Volatile.Read(ref _accepted);

    /// <summary>When each activation request arrived (a <see cref="Stopwatch"/> timestamp taken as its bytes were
    /// read), its CMID and the connection it came on (numbered from 0 in the order they were accepted).</summary>
    public ConcurrentQueue<(long Timestamp, Guid Cmid, int Connection)> Arrivals { get; } = new();

    /// <summary>How many requests each CMID sent.</summary>
    public ConcurrentDictionary<Guid, int> RequestsByCmid { get; } = new();

    /// <summary>Unique CMIDs counted in the window of <paramref name="applicationId"/>.</summary>
    public int Count(Guid applicationId)
    {
        lock (_windows)
        {
            return _windows.TryGetValue(applicationId, out var window) ? window.Count : 0;
        }
    }

    /// <summary>Stops listening and drops every connection, as a crashed node.</summary>
    public void Crash()
    {
        if (Interlocked.Exchange(ref _listening, 0) == 1)
        {
            _listener.Stop();
        }
        foreach (var socket in _connections.Keys)
        {
            socket.Dispose();
        }
    }

    private ActivationResponse Answer(in ActivationRequest request, long arrived, int connection)
    {
        Arrivals.Enqueue((arrived, request.ClientMachineId, connection));
        RequestsByCmid.AddOrUpdate(request.ClientMachineId, 1, (_, n) => n + 1);
        var threshold = ProductCatalog.Default.TryGetProduct(request.ProductId, out var product) ? product.Threshold : 5;
        int count;
        lock (_windows)
        {
            if (!_windows.TryGetValue(request.ApplicationId, out var window))
            {
                _windows[request.ApplicationId] = window = [];
            }
            window.Add(request.ClientMachineId);
            count = window.Count;
        }
        var now = DateTimeOffset.UtcNow;
        var activated = count >= threshold;
        return new ActivationResponse(request.ClientMachineId, Guid.Empty, Name, now, (ushort)Math.Min(count, ushort.MaxValue),
            (ushort)threshold, activated, activated ? now.AddDays(180) : null, ActivationIntervalMinutes, RenewalIntervalMinutes);
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stopping.Token);
                _connections.TryAdd(socket, 0);
                _ = ServeAsync(socket, Interlocked.Increment(ref _accepted) - 1);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task ServeAsync(Socket socket, int connection)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var input = PipeReader.Create(stream);
        var output = PipeWriter.Create(stream);
        using var writing = new SemaphoreSlim(1, 1);
        var queue = Channel.CreateUnbounded<(uint Id, ActivationResponse? Response, ErrorResponse Error)>();
        var serial = ServiceTime is { } serviceTime ? AnswerSeriallyAsync(queue.Reader, serviceTime, output, writing) : Task.CompletedTask;
        try
        {
            while (true)
            {
                var read = await input.ReadAsync(_stopping.Token);
                var arrived = Stopwatch.GetTimestamp();
                var buffer = read.Buffer;
                var immediate = false;
                while (FrameReader.TryParse(buffer, out var consumed, out _, out var frame))
                {
                    var requestId = frame.RequestId;
                    // A v2 request is a nonce and then the v1 body; these fakes answer unsigned (v1) either way.
                    var body = frame.Body.ToArray().AsSpan(frame.Version == ProtocolConstants.SignedVersion ? SignedActivationRequest.NonceSize : 0).ToArray();
                    buffer = buffer.Slice(consumed);
                    var number = Interlocked.Increment(ref _requests);
                    (uint, ActivationResponse?, ErrorResponse) reply;
                    if (!ActivationRequest.TryRead(body, out var request, out var problem))
                    {
                        reply = (requestId, null, new ErrorResponse(ErrorCode.MalformedRequest, 0, problem));
                    }
                    else if (Refuse(number) is { } code)
                    {
                        reply = (requestId, null, new ErrorResponse(code, 0, "refused by the test"));
                    }
                    else
                    {
                        reply = (requestId, Answer(request, arrived, connection), default);
                    }
                    if (ServiceTime is not null)
                    {
                        queue.Writer.TryWrite(reply);
                    }
                    else if (Delay > TimeSpan.Zero)
                    {
                        _ = AnswerLaterAsync(reply, output, writing);
                    }
                    else
                    {
                        await writing.WaitAsync(_stopping.Token);
                        Write(output, reply);
                        writing.Release();
                        immediate = true;
                    }
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (immediate)
                {
                    await writing.WaitAsync(_stopping.Token);
                    try
                    {
                        await output.FlushAsync(_stopping.Token);
                    }
                    finally
                    {
                        writing.Release();
                    }
                }
                if (read.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            queue.Writer.TryComplete();
            _connections.TryRemove(socket, out _);
            await serial.ContinueWith(_ => { });
        }
    }

    private async Task AnswerLaterAsync((uint Id, ActivationResponse? Response, ErrorResponse Error) reply, PipeWriter output, SemaphoreSlim writing)
    {
        try
        {
            await Task.Delay(Delay, _stopping.Token);
            await writing.WaitAsync(_stopping.Token);
            try
            {
                Write(output, reply);
                await output.FlushAsync(_stopping.Token);
            }
            finally
            {
                writing.Release();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task AnswerSeriallyAsync(ChannelReader<(uint Id, ActivationResponse? Response, ErrorResponse Error)> queue, TimeSpan serviceTime,
        PipeWriter output, SemaphoreSlim writing)
    {
        try
        {
            await foreach (var reply in queue.ReadAllAsync(_stopping.Token))
            {
                await Task.Delay(serviceTime, _stopping.Token);
                await writing.WaitAsync(_stopping.Token);
                try
                {
                    Write(output, reply);
                    await output.FlushAsync(_stopping.Token);
                }
                finally
                {
                    writing.Release();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private static void Write(PipeWriter output, (uint Id, ActivationResponse? Response, ErrorResponse Error) reply)
    {
        if (reply.Response is { } response)
        {
            FrameWriter.Write(output, reply.Id, response);
        }
        else
        {
            FrameWriter.Write(output, reply.Id, reply.Error);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        Crash();
        await _accepting;
        _stopping.Dispose();
    }
}
