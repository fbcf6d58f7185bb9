using System.Buffers.Binary;
using KmsCluster.Testing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Node.Tests;

/// <summary>Bad input gets a clear error; a connection that can still be followed stays open; a broken stream
/// is closed; other connections never notice.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private NodeProcess _node = null!;

    // These send v1 frames by hand: the node serves v1 too.
    public async Task InitializeAsync() => _node = await NodeProcess.StartAsync(_data.Path, "--allow-unsigned");

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task Garbage_on_one_connection_is_answered_and_closed_while_another_keeps_activating()
    {
        await using var good = await _node.OpenConnectionAsync();
        await using var bad = await RawConnection.OpenAsync(_node.ActivationPort);

        var activating = Task.Run(async () =>
        {
            var results = new List<bool>();
            for (var i = 0; i < 200; i++)
            {
                var result = await good.ActivateAsync(Requests.For("windows-10-enterprise"), TimeSpan.FromSeconds(30));
                results.Add(!result.IsError);
            }
            return results;
        });
        await bad.SendAsync("GET / HTTP/1.1\r\nHost: kms\r\n\r\n"u8.ToArray());

        var reply = await bad.ReadAsync();
        Assert.NotNull(reply?.Error);
        Assert.Equal(ErrorCode.MalformedRequest, reply.Error.Value.Code);
        Assert.Contains("magic", reply.Error.Value.Message);
        Assert.True(await bad.ClosedByHostAsync(TimeSpan.FromSeconds(10)));
        Assert.All(await activating, Assert.True);
    }

    [Fact]
    public async Task A_client_that_stops_reading_its_answers_is_no_longer_read_and_gets_every_answer_once_it_reads()
    {
        // Far more answers than the socket buffers hold: the node must stop reading this connection.
        const int Requests = 300_000;
        const int PerSend = 1_000;
        await using var lazy = await RawConnection.OpenAsync(_node.ActivationPort);
        await using var good = await _node.OpenConnectionAsync();
        var sent = 0;
        var sending = Task.Run(async () =>
        {
            for (var first = 1; first <= Requests; first += PerSend)
            {
                var chunk = new List<byte>();
                for (var id = first; id < first + PerSend; id++)
                {
                    chunk.AddRange(RawConnection.Encode((uint)id, KmsCluster.Testing.Requests.For("windows-11-pro")));
                }
                await lazy.SendAsync([.. chunk]);
                Interlocked.Add(ref sent, PerSend);
            }
        });

        // Other connections are served meanwhile.
        for (var i = 0; i < 50; i++)
        {
            var result = await good.ActivateAsync(KmsCluster.Testing.Requests.For("windows-10-enterprise"), TimeSpan.FromSeconds(30));
            Assert.False(result.IsError, result.ToString());
        }
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(sending.IsCompleted, $"the node read all {Requests} requests of a client that reads no answers");
        var stalledAt = Volatile.Read(ref sent);
        Assert.True(stalledAt < Requests, $"{stalledAt} sent");

        // Once the client reads, every request gets its answer: none lost, none doubled.
        var seen = new bool[Requests + 1];
        for (var n = 0; n < Requests; n++)
        {
            var reply = await lazy.ReadAsync(TimeSpan.FromSeconds(60));
            Assert.NotNull(reply);
            Assert.True(reply.Response is not null, $"request {reply.RequestId}: {reply.Error}");
            Assert.False(seen[reply.RequestId], $"request {reply.RequestId} answered twice");
            seen[reply.RequestId] = true;
        }
        await sending;
    }

    [Fact]
    public async Task A_body_that_does_not_decode_costs_only_that_request()
    {
        await using var connection = await RawConnection.OpenAsync(_node.ActivationPort);
        var frame = RawConnection.Encode(7, Requests.For("windows-11-education"));
        frame[^1] = 0xFF; // invalid UTF-8 in the workstation name
        await connection.SendAsync(frame);
        await connection.SendRequestAsync(8, Requests.For("windows-11-education"));

        var error = await connection.ReadAsync();
        Assert.Equal(7u, error!.RequestId);
        Assert.Equal(ErrorCode.MalformedRequest, error.Error!.Value.Code);
        Assert.False(error.Error.Value.IsRetryable);
        var next = await connection.ReadAsync();
        Assert.Equal(8u, next!.RequestId);
        Assert.NotNull(next.Response);
    }

    [Fact]
    public async Task An_unsupported_version_gets_its_error_and_the_connection_continues()
    {
        await using var connection = await RawConnection.OpenAsync(_node.ActivationPort);
        var frame = RawConnection.Encode(11, Requests.For("windows-11-pro"));
        frame[2] = 9; // a future version with the same envelope
        await connection.SendAsync(frame);
        await connection.SendRequestAsync(12, Requests.For("windows-11-pro"));

        var error = await connection.ReadAsync();
        Assert.Equal(11u, error!.RequestId);
        Assert.Equal(ErrorCode.UnsupportedVersion, error.Error!.Value.Code);
        Assert.Contains("version 1", error.Error.Value.Message);
        Assert.NotNull((await connection.ReadAsync())!.Response);
    }

    [Fact]
    public async Task An_unknown_message_type_is_refused()
    {
        await using var connection = await RawConnection.OpenAsync(_node.ActivationPort);
        var frame = RawConnection.Encode(5, Requests.For("windows-11-pro"));
        frame[3] = (byte)MessageType.ActivationResponse; // a client may not send responses
        await connection.SendAsync(frame);

        var error = await connection.ReadAsync();
        Assert.Equal(ErrorCode.UnknownMessageType, error!.Error!.Value.Code);
    }

    [Fact]
    public async Task Unknown_products_and_mismatched_applications_are_refused_and_not_counted()
    {
        await using var connection = await _node.OpenConnectionAsync();
        var unknown = Requests.For("windows-11-pro") with { ProductId = Guid.NewGuid() };
        var office = Requests.For("office-2016-standard");
        var mismatched = Requests.For("windows-11-pro") with { ApplicationId = office.ApplicationId };

        var unknownAnswer = await connection.ActivateAsync(unknown, TimeSpan.FromSeconds(30));
        var mismatchedAnswer = await connection.ActivateAsync(mismatched, TimeSpan.FromSeconds(30));

        Assert.Equal(ErrorCode.UnknownProduct, unknownAnswer.Error.Code);
        Assert.Equal(ErrorCode.MalformedRequest, mismatchedAnswer.Error.Code);
        using var admin = new AdminClient(_node);
        Assert.Equal(0, (await admin.WindowAsync("windows")).Requests);
        Assert.Equal(0, (await admin.WindowAsync("office")).Requests);
    }

    [Fact]
    public async Task A_client_clock_more_than_four_hours_off_is_refused_and_not_counted()
    {
        await using var connection = await _node.OpenConnectionAsync();
        var ahead = Requests.For("office-2016-standard", clientTime: DateTimeOffset.UtcNow.AddHours(4).AddMinutes(5));
        var behind = Requests.For("office-2016-standard", clientTime: DateTimeOffset.UtcNow.AddHours(-5));
        var close = Requests.For("office-2016-standard", clientTime: DateTimeOffset.UtcNow.AddHours(-3));

        var aheadAnswer = await connection.ActivateAsync(ahead, TimeSpan.FromSeconds(30));
        var behindAnswer = await connection.ActivateAsync(behind, TimeSpan.FromSeconds(30));
        var closeAnswer = await connection.ActivateAsync(close, TimeSpan.FromSeconds(30));

        Assert.Equal(ErrorCode.ClockSkew, aheadAnswer.Error.Code);
        Assert.Contains("ahead", aheadAnswer.Error.Message);
        Assert.Equal(ErrorCode.ClockSkew, behindAnswer.Error.Code);
        Assert.Contains("behind", behindAnswer.Error.Message);
        Assert.Equal(1, closeAnswer.Response.CurrentCount);

        using var admin = new AdminClient(_node);
        Assert.True((await admin.StatsAsync()).ByError["clock-skew"] >= 2);
    }

    [Theory]
    [InlineData(-1, ErrorCode.MalformedRequest)]
    [InlineData(ProtocolConstants.MaxBodySize + 1, ErrorCode.FrameTooLarge)]
    [InlineData(int.MaxValue, ErrorCode.FrameTooLarge)]
    public async Task A_length_the_host_cannot_follow_gets_an_error_and_a_closed_connection(int bodyLength, ErrorCode expected)
    {
        await using var connection = await RawConnection.OpenAsync(_node.ActivationPort);
        var header = new byte[ProtocolConstants.HeaderSize];
        FrameWriter.WriteHeader(header, ProtocolConstants.Version, MessageType.ActivationRequest, 99, 0);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(8), bodyLength);
        await connection.SendAsync(header);

        var error = await connection.ReadAsync();
        Assert.Equal(99u, error!.RequestId);
        Assert.Equal(expected, error.Error!.Value.Code);
        Assert.True(await connection.ClosedByHostAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_connection_that_ends_inside_a_frame_is_logged_as_a_failed_request()
    {
        using var admin = new AdminClient(_node);
        var failedBefore = (await admin.StatsAsync()).Failed;
        await using (var connection = await RawConnection.OpenAsync(_node.ActivationPort))
        {
            var frame = RawConnection.Encode(3, Requests.For("windows-11-pro"));
            await connection.SendAsync(frame[..(frame.Length / 2)]);
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        long failed;
        do
        {
            await Task.Delay(100);
            failed = (await admin.StatsAsync()).Failed;
        } while (failed == failedBefore && DateTime.UtcNow < deadline);
        Assert.Equal(failedBefore + 1, failed);
    }
}
