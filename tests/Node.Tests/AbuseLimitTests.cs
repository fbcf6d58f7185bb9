using System.Net;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>
/// The abuse limits on a real node over real sockets, each attacker beside a well-behaved client from another source
/// address (127.0.0.x, bound by the client socket): a connection flood, a client dribbling a frame byte by byte, a
/// source flooding requests, a garbage sender, a node full of pending answers. Each is refused or cut off and
/// counted, in /api/v1/stats and /metrics alike; the well-behaved client is answered. The nodes serve v1 too
/// (--allow-unsigned) because these tests write frames by hand; --limit-exempt none puts loopback under the limits.
/// </summary>
public sealed class AbuseLimitTests : IAsyncLifetime
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress WellBehaved = IPAddress.Parse("127.0.0.3");

    private readonly TempDirectory _data = new();
    private NodeProcess? _node;

    private async Task<NodeProcess> StartAsync(params string[] limits) =>
        _node = await NodeProcess.StartAsync(_data.Path, ["--allow-unsigned", "--limit-exempt", "none", .. limits]);

    public Task InitializeAsync() => Task.CompletedTask;

    // IAsyncLifetime, not IAsyncDisposable: xunit v2 never calls the latter on a test class, and every node leaked.
    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task A_connection_flood_is_refused_at_the_source_and_node_limits_and_counted_while_another_source_is_answered()
    {
        var node = await StartAsync("--max-connections-per-source", "4", "--max-connections", "6");
        var held = new List<RawConnection>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                held.Add(await OpenAnsweredAsync(node, Attacker));
            }
            for (var i = 0; i < 10; i++)
            {
                Assert.True(await RawConnection.RefusedFromAsync(Attacker, node.ActivationPort, Answer),
                    $"flood connection {i + 1} beyond the source's 4 was not closed");
            }

            // Another source still connects and is answered, up to the node's limit of 6 ...
            held.Add(await OpenAnsweredAsync(node, WellBehaved));
            held.Add(await OpenAnsweredAsync(node, WellBehaved));
            // ... beyond which any source is refused.
            Assert.True(await RawConnection.RefusedFromAsync(IPAddress.Parse("127.0.0.4"), node.ActivationPort, Answer),
                "a connection beyond the node's 6 was not closed");
            // A flood connection that ends makes room again.
            await held[0].DisposeAsync();
            held.RemoveAt(0);
            var (room, attempts) = await OpenWhenRoomAsync(node, IPAddress.Parse("127.0.0.4"));
            held.Add(room);

            var limits = await LimitsAsync(node);
            Assert.Equal(10, limits.RefusedSourceConnections);
            Assert.Equal(1 + (attempts - 1), limits.RefusedNodeConnections); // tries before the close reached the node count too
            Assert.Equal(6, limits.ConnectionsOpen);
            var metrics = await MetricsTests.ScrapeAsync(node);
            Assert.Equal(10, metrics.Value("kms_connections_refused_total", ("limit", "source")));
            Assert.Equal(limits.RefusedNodeConnections, metrics.Value("kms_connections_refused_total", ("limit", "node")));
        }
        finally
        {
            foreach (var connection in held) await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_ipv4_client_on_a_dual_stack_listener_is_the_same_source_as_on_an_ipv4_one()
    {
        // The second endpoint takes IPv4 and IPv6: an IPv4 client arrives there as ::ffff:127.0.0.2.
        var node = await StartAsync("--max-connections-per-source", "2", "--listen", "[::]:0");
        var dualStack = node.ActivationEndpoints[1];
        var dualStackPort = int.Parse(dualStack[(dualStack.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        await using var first = await OpenAnsweredAsync(node, Attacker);
        await using var second = await OpenAnsweredAsync(node, Attacker);

        Assert.True(await RawConnection.RefusedFromAsync(Attacker, dualStackPort, Answer),
            "the same client through the dual-stack endpoint was not counted as the same source");
        await using var other = await RawConnection.OpenFromAsync(WellBehaved, dualStackPort);
        await other.SendRequestAsync(1, Requests.For("windows-10-enterprise"));
        Assert.NotNull((await other.ReadAsync(Answer))?.Response);
        Assert.Equal(1, (await LimitsAsync(node)).RefusedSourceConnections);
    }

    [Fact]
    public async Task A_client_dribbling_a_frame_is_cut_off_at_the_frame_timeout_while_another_is_answered()
    {
        // An idle timeout far beyond the test: only the frame timeout can end the dribbling connection.
        var node = await StartAsync("--frame-timeout", "2s", "--idle-timeout", "1h");
        var frame = RawConnection.Encode(1, Requests.For("windows-11-pro"));
        await using var dribbler = await RawConnection.OpenFromAsync(Attacker, node.ActivationPort);
        var sent = 0;
        using var stopDribbling = new CancellationTokenSource();
        var dribbling = Task.Run(async () =>
        {
            try
            {
                // One byte every 250 ms: the idle timeout never sees silence; the whole frame would take far longer
                // than the frame timeout.
                for (; sent < frame.Length && !stopDribbling.IsCancellationRequested; sent++)
                {
                    await dribbler.SendAsync([frame[sent]]);
                    await Task.Delay(250, stopDribbling.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or System.Net.Sockets.SocketException)
            {
            }
        });

        await using (var good = await RawConnection.OpenFromAsync(WellBehaved, node.ActivationPort))
        {
            await good.SendRequestAsync(7, Requests.For("windows-10-enterprise"));
            var answer = await good.ReadAsync(Answer);
            Assert.NotNull(answer?.Response);
        }

        var reply = await dribbler.ReadAsync(TimeSpan.FromMinutes(2));
        var sentWhenCut = Volatile.Read(ref sent);
        Assert.NotNull(reply?.Error);
        Assert.Equal(ErrorCode.MalformedRequest, reply.Error.Value.Code);
        Assert.Contains("did not complete within 2 s", reply.Error.Value.Message);
        Assert.True(await dribbler.ClosedByHostAsync(Answer), "the dribbling connection stayed open after its error");
        Assert.True(sentWhenCut < frame.Length, $"the whole frame ({frame.Length} bytes) arrived before the cut");
        await stopDribbling.CancelAsync();
        await dribbling;

        Assert.Equal(1, (await LimitsAsync(node)).FrameTimeouts);
        Assert.Equal(1, (await MetricsTests.ScrapeAsync(node)).Value("kms_connections_cut_total", ("reason", "frame-timeout")));
    }

    [Fact]
    public async Task A_source_flooding_requests_gets_server_busy_with_a_retry_hint_while_another_source_is_answered()
    {
        const int Flood = 2_000;
        var node = await StartAsync("--source-rate", "50");
        await using var flooder = await RawConnection.OpenFromAsync(Attacker, node.ActivationPort);
        await flooder.SendAsync(Frames(1, Flood, "windows-11-pro"));

        var busy = new List<ErrorResponse>();
        var answered = 0;
        for (var i = 0; i < Flood; i++)
        {
            var reply = await flooder.ReadAsync(Answer);
            Assert.NotNull(reply);
            if (reply.Response is not null) answered++;
            else if (reply.Error is { Code: ErrorCode.ServerBusy } error) busy.Add(error);
            else Assert.Fail($"unexpected reply {reply}");
        }
        // A bucket of 50 and at most 5 more per 100 ms while the flood is read: most of 2,000 are refused.
        Assert.True(busy.Count > Flood / 2, $"{busy.Count} of {Flood} flood requests got server-busy");
        Assert.True(answered >= 1, "the flooding source got no answer at all: its first 50 are within its rate");
        Assert.All(busy, error =>
        {
            Assert.True(error.IsRetryable);
            Assert.InRange(error.RetryAfterMilliseconds, 1u, 1_000u);
            Assert.Contains("source address", error.Message);
        });

        await using var good = await RawConnection.OpenFromAsync(WellBehaved, node.ActivationPort);
        for (uint id = 1; id <= 20; id++)
        {
            await good.SendRequestAsync(id, Requests.For("windows-10-enterprise"));
            Assert.NotNull((await good.ReadAsync(Answer))?.Response);
        }
        // The bucket refills: the flooder, once it waits what the hint said (here, the longest hint it got), is served again.
        await Task.Delay(TimeSpan.FromMilliseconds(busy.Max(e => e.RetryAfterMilliseconds)));
        await flooder.SendRequestAsync(Flood + 1, Requests.For("windows-11-pro"));
        Assert.NotNull((await flooder.ReadAsync(Answer))?.Response);

        var limits = await LimitsAsync(node);
        Assert.Equal(busy.Count, limits.ThrottledSourceRequests);
        Assert.Equal(0, limits.ThrottledNodeRequests);
        var metrics = await MetricsTests.ScrapeAsync(node);
        Assert.Equal(busy.Count, metrics.Value("kms_requests_throttled_total", ("limit", "source-rate")));
        // The node did not read the whole flood and refuse it at once: it refused at most 64 requests, then held the
        // connection off until the hint had passed (the rest waiting in the pipe and TCP), and so on.
        var rounds = (busy.Count + Activation.ActivationSession.OverRateAnswersPerRead - 1) / Activation.ActivationSession.OverRateAnswersPerRead;
        Assert.True(limits.SourceHoldOffs >= rounds, $"{busy.Count} refusals in {limits.SourceHoldOffs} hold-offs (at most 64 each)");
        Assert.Equal(limits.SourceHoldOffs, metrics.Value("kms_limits_source_holdoffs_total"));
    }

    [Fact]
    public async Task Loopback_is_exempt_from_the_source_rate_by_default()
    {
        const int Flood = 2_000;
        _node = await NodeProcess.StartAsync(_data.Path, "--allow-unsigned", "--source-rate", "50");
        await using var flooder = await RawConnection.OpenFromAsync(Attacker, _node.ActivationPort);
        await flooder.SendAsync(Frames(1, Flood, "windows-11-pro"));
        for (var i = 0; i < Flood; i++)
        {
            var reply = await flooder.ReadAsync(Answer);
            Assert.NotNull(reply?.Response);
        }
        Assert.Equal(0, (await LimitsAsync(_node)).ThrottledSourceRequests);
    }

    [Fact]
    public async Task A_garbage_sender_is_disconnected_every_time_and_counted_while_another_source_is_answered()
    {
        const int Attempts = 50;
        var node = await StartAsync();
        var garbage = Task.Run(async () =>
        {
            var random = new Random(15);
            for (var i = 0; i < Attempts; i++)
            {
                var bytes = new byte[random.Next(1, 4096)];
                random.NextBytes(bytes);
                bytes[0] = (byte)'X'; // never the magic's "K"
                await using var connection = await RawConnection.OpenFromAsync(Attacker, node.ActivationPort);
                await connection.SendAsync(bytes);
                Assert.True(await AnsweredAndClosedAsync(connection), $"garbage connection {i + 1} stayed open");
            }
        });
        await using var good = await RawConnection.OpenFromAsync(WellBehaved, node.ActivationPort);
        for (uint id = 1; !garbage.IsCompleted || id <= 20; id++)
        {
            await good.SendRequestAsync(id, Requests.For("windows-10-enterprise"));
            Assert.NotNull((await good.ReadAsync(Answer))?.Response);
        }
        await garbage;

        Assert.Equal(Attempts, (await LimitsAsync(node)).BrokenStreams);
        Assert.Equal(Attempts, (await MetricsTests.ScrapeAsync(node)).Value("kms_connections_cut_total", ("reason", "broken-stream")));
    }

    [Fact]
    public async Task A_node_holding_its_pending_limit_answers_server_busy_and_serves_again_once_answers_are_out()
    {
        const int Flood = 2_000;
        var node = await StartAsync("--max-pending", "8", "--source-rate", "0");
        await using var flooder = await RawConnection.OpenFromAsync(Attacker, node.ActivationPort);
        await flooder.SendAsync(Frames(1, Flood, "windows-11-pro"));
        var busy = 0;
        for (var i = 0; i < Flood; i++)
        {
            var reply = await flooder.ReadAsync(Answer);
            if (reply?.Error is { Code: ErrorCode.ServerBusy } error)
            {
                Assert.Contains("8 unanswered requests", error.Message);
                Assert.Equal(1_000u, error.RetryAfterMilliseconds);
                busy++;
            }
            else
            {
                Assert.NotNull(reply?.Response);
            }
        }
        Assert.True(busy > 0, "2,000 pipelined requests never found 8 unanswered on the node");

        await using var good = await RawConnection.OpenFromAsync(WellBehaved, node.ActivationPort);
        await good.SendRequestAsync(1, Requests.For("windows-10-enterprise"));
        Assert.NotNull((await good.ReadAsync(Answer))?.Response);
        var limits = await LimitsAsync(node);
        Assert.Equal(busy, limits.ThrottledNodeRequests);
        Assert.Equal(0, limits.PendingRequests);
    }

    /// <summary>Opens a connection from <paramref name="source"/> and has one request answered on it: the node holds it.</summary>
    private static async Task<RawConnection> OpenAnsweredAsync(NodeProcess node, IPAddress source)
    {
        var connection = await RawConnection.OpenFromAsync(source, node.ActivationPort);
        await connection.SendRequestAsync(1, Requests.For("windows-10-enterprise"));
        var reply = await connection.ReadAsync(Answer);
        Assert.True(reply?.Response is not null, $"a connection from {source} was not answered: {reply?.ToString() ?? "closed"}");
        return connection;
    }

    /// <summary>Like <see cref="OpenAnsweredAsync"/>, trying again while the node has not yet counted a closed
    /// connection out (the close reaches it a moment after the client's).</summary>
    /// <summary>A connection from <paramref name="source"/> that got an answer; null when the node refused it (reset).</summary>
    private static async Task<RawConnection?> AnsweredConnectionAsync(IPAddress source, NodeProcess node)
    {
        RawConnection? connection = null;
        try
        {
            connection = await RawConnection.OpenFromAsync(source, node.ActivationPort);
            await connection.SendRequestAsync(1, Requests.For("windows-10-enterprise"));
            if ((await connection.ReadAsync(Answer))?.Response is not null) return connection;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
        }
        if (connection is not null) await connection.DisposeAsync();
        return null;
    }

    private static async Task<(RawConnection Connection, int Attempts)> OpenWhenRoomAsync(NodeProcess node, IPAddress source)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (await AnsweredConnectionAsync(source, node) is { } connection) return (connection, attempt);
            Assert.True(attempt < 100, "the node never made room after a connection closed");
            await Task.Delay(100);
        }
    }

    /// <summary>True when the host answers with an error and closes; a reset (the host closed with our garbage
    /// still unread) counts as closed too.</summary>
    private static async Task<bool> AnsweredAndClosedAsync(RawConnection connection)
    {
        try
        {
            if (await connection.ReadAsync(Answer) is { } reply)
            {
                Assert.Equal(ErrorCode.MalformedRequest, reply.Error?.Code);
                return await connection.ClosedByHostAsync(Answer);
            }
            return true;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static byte[] Frames(uint firstId, int count, string product) =>
        Enumerable.Range(0, count).SelectMany(i => RawConnection.Encode(firstId + (uint)i, Requests.For(product))).ToArray();

    private static async Task<LimitsJson> LimitsAsync(NodeProcess node)
    {
        using var admin = new AdminClient(node);
        return (await admin.StatsAsync()).Limits ?? throw new InvalidOperationException("/api/v1/stats has no limits");
    }
}
