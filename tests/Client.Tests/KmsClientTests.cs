using System.Collections.Concurrent;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;
using static KmsCluster.Client.Tests.TestRequests;

namespace KmsCluster.Client.Tests;

/// <summary>KmsClient against fake hosts on real loopback sockets: failover, stickiness, deadline.</summary>
public sealed class KmsClientTests
{
    // Generous per-attempt limits: a test that needs a timeout sets a short one itself.
    private static readonly KmsClientOptions Options = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(5),
        RequestTimeout = TimeSpan.FromSeconds(10),
        Deadline = TimeSpan.FromSeconds(20),
        RetryDelay = TimeSpan.FromMilliseconds(20),
    };

    [Fact]
    public async Task When_the_first_server_is_down_the_second_answers_and_becomes_current()
    {
        var down = FakeKmsHost.Unused();
        await using var up = FakeKmsHost.Start("up", HostReply.Answer);
        await using var client = new KmsClient([down, up.Address], Options);
        var failovers = new ConcurrentQueue<KmsFailover>();
        client.FailedOver += (_, failover) => failovers.Enqueue(failover);

        var answer = await client.RequestAsync(New()).WaitAsync(Patience);

        Assert.False(answer.Result.IsError, answer.Result.ToString());
        Assert.Equal("up", answer.Result.Response.HostName);
        Assert.Equal(up.Address, answer.Server);
        Assert.Equal(up.Address, client.CurrentServer);
        Assert.Equal(1, client.FailoverCount);
        var failover = Assert.Single(failovers);
        Assert.Equal(down, failover.From);
        Assert.Equal(up.Address, failover.To);
        Assert.Contains("cannot connect", failover.Reason);
    }

    [Theory]
    [InlineData(ErrorCode.ServerBusy)]
    [InlineData(ErrorCode.WindowUnavailable)]
    [InlineData(ErrorCode.InternalError)]
    public async Task A_retryable_error_moves_to_the_next_server_and_its_response_is_returned(ErrorCode code)
    {
        await using var refusing = FakeKmsHost.Start("refusing", HostReply.Error(code, "try elsewhere"));
        await using var answering = FakeKmsHost.Start("answering", HostReply.Answer);
        await using var client = new KmsClient([refusing.Address, answering.Address], Options);

        var result = await client.ActivateAsync(New()).WaitAsync(Patience);

        Assert.False(result.IsError, result.ToString());
        Assert.Equal("answering", result.Response.HostName);
        Assert.Equal(1, refusing.RequestsReceived);
        Assert.Equal(1, answering.RequestsReceived);
        Assert.Equal(answering.Address, client.CurrentServer);
    }

    [Theory]
    [InlineData(ErrorCode.UnknownProduct)]
    [InlineData(ErrorCode.ProductNotAllowed)]
    [InlineData(ErrorCode.ClockSkew)]
    [InlineData(ErrorCode.MalformedRequest)]
    public async Task A_non_retryable_error_is_returned_as_is_without_failover(ErrorCode code)
    {
        await using var refusing = FakeKmsHost.Start("refusing", HostReply.Error(code, "not here, not anywhere"));
        await using var other = FakeKmsHost.Start("other", HostReply.Answer);
        await using var client = new KmsClient([refusing.Address, other.Address], Options);

        var answer = await client.RequestAsync(New()).WaitAsync(Patience);

        Assert.True(answer.Result.IsError);
        Assert.Equal(code, answer.Result.Error.Code);
        Assert.Equal("not here, not anywhere", answer.Result.Error.Message);
        Assert.Equal(refusing.Address, answer.Server);
        Assert.Equal(0, other.ConnectionsAccepted);
        Assert.Equal(refusing.Address, client.CurrentServer);
        Assert.Equal(0, client.FailoverCount);
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out_and_the_next_one_is_asked()
    {
        await using var silent = FakeKmsHost.Start("silent", HostReply.Silence);
        await using var answering = FakeKmsHost.Start("answering", HostReply.Answer);
        // Long enough for the answering host to answer on a busy machine; a shorter one failed once in a full run.
        await using var client = new KmsClient([silent.Address, answering.Address],
            Options with { RequestTimeout = TimeSpan.FromSeconds(1) });

        var result = await client.ActivateAsync(New()).WaitAsync(Patience);

        Assert.Equal("answering", result.Response.HostName);
        Assert.Equal(1, silent.RequestsReceived);
        Assert.Equal(answering.Address, client.CurrentServer);
    }

    [Fact]
    public async Task When_every_server_is_down_the_call_ends_at_the_deadline_naming_the_servers_and_the_last_failure()
    {
        var first = FakeKmsHost.Unused();
        var second = FakeKmsHost.Unused();
        await using var client = new KmsClient([first, second], Options with { Deadline = TimeSpan.FromSeconds(2) });

        var failure = await Assert.ThrowsAsync<KmsConnectionException>(() => client.ActivateAsync(New()).WaitAsync(Patience));

        Assert.Contains(first.ToString(), failure.Message);
        Assert.Contains(second.ToString(), failure.Message);
        Assert.Contains("cannot connect", failure.Message);
        Assert.IsType<KmsConnectionException>(failure.InnerException);
        // Both were tried, and tried again after a full round.
        Assert.True(client.FailoverCount >= 2, $"{client.FailoverCount} failovers");
    }

    [Fact]
    public async Task When_the_only_server_never_answers_the_deadline_ends_the_call()
    {
        await using var silent = FakeKmsHost.Start("silent", HostReply.Silence);
        await using var client = new KmsClient([silent.Address],
            Options with { RequestTimeout = TimeSpan.FromSeconds(30), Deadline = TimeSpan.FromMilliseconds(500) });

        var failure = await Assert.ThrowsAsync<KmsConnectionException>(() => client.ActivateAsync(New()).WaitAsync(Patience));

        Assert.Contains(silent.Address.ToString(), failure.Message);
        Assert.Equal(1, silent.RequestsReceived);
    }

    [Fact]
    public async Task When_every_server_answers_a_retryable_error_the_last_one_is_returned_at_the_deadline()
    {
        await using var first = FakeKmsHost.Start("first", HostReply.Error(ErrorCode.ServerBusy, "first is busy"));
        await using var second = FakeKmsHost.Start("second", HostReply.Error(ErrorCode.WindowUnavailable, "second has no window"));
        await using var client = new KmsClient([first.Address, second.Address], Options with { Deadline = TimeSpan.FromSeconds(1) });

        var answer = await client.RequestAsync(New()).WaitAsync(Patience);

        Assert.True(answer.Result.IsError);
        Assert.True(answer.Result.Error.IsRetryable);
        // The answer and the server it names belong together.
        var expected = answer.Server == first.Address
            ? (ErrorCode.ServerBusy, "first is busy")
            : (ErrorCode.WindowUnavailable, "second has no window");
        Assert.Equal(expected, (answer.Result.Error.Code, answer.Result.Error.Message));
        Assert.True(first.RequestsReceived >= 1 && second.RequestsReceived >= 1,
            $"first got {first.RequestsReceived}, second {second.RequestsReceived}");
        // Round robin: first, second, first, ... never one server twice in a row.
        Assert.InRange(first.RequestsReceived - second.RequestsReceived, 0, 1);
    }

    [Fact]
    public async Task When_every_server_is_busy_the_client_waits_the_retry_hint_before_asking_again()
    {
        // A hint far longer than RetryDelay and than the deadline: a client that honours it asks once and waits;
        // one that ignored it would ask every RetryDelay until the deadline.
        await using var busy = FakeKmsHost.Start("busy", HostReply.Error(ErrorCode.ServerBusy, "too many requests from this source", 60_000));
        await using var client = new KmsClient([busy.Address], Options with { Deadline = TimeSpan.FromSeconds(2), RetryDelay = TimeSpan.FromMilliseconds(50) });

        var answer = await client.RequestAsync(New()).WaitAsync(Patience);

        Assert.Equal(ErrorCode.ServerBusy, answer.Result.Error.Code);
        Assert.Equal(1, busy.RequestsReceived);
    }

    [Fact]
    public async Task After_a_failover_later_calls_stay_on_the_working_server_even_when_the_first_one_is_back()
    {
        // The first server drops the first connection, then would answer normally.
        await using var flaky = FakeKmsHost.Start("flaky", n => n == 1 ? HostReply.CloseConnection : HostReply.Answer);
        await using var steady = FakeKmsHost.Start("steady", HostReply.Answer);
        await using var client = new KmsClient([flaky.Address, steady.Address], Options);

        for (var i = 0; i < 5; i++)
        {
            var result = await client.ActivateAsync(New()).WaitAsync(Patience);
            Assert.Equal("steady", result.Response.HostName);
        }

        Assert.Equal(1, flaky.RequestsReceived);
        Assert.Equal(5, steady.RequestsReceived);
        Assert.Equal(1, steady.ConnectionsAccepted);
        Assert.Equal(steady.Address, client.CurrentServer);
        Assert.Equal(1, client.FailoverCount);
    }

    [Fact]
    public async Task A_failed_server_is_asked_again_only_after_the_others()
    {
        await using var a = FakeKmsHost.Start("a", HostReply.Answer);
        await using var b = FakeKmsHost.Start("b", HostReply.Answer);
        await using var c = FakeKmsHost.Start("c", HostReply.Answer);
        await using var client = new KmsClient([a.Address, b.Address, c.Address], Options);
        var busy = HostReply.Error(ErrorCode.ServerBusy, "busy");

        Assert.Equal("a", (await client.ActivateAsync(New()).WaitAsync(Patience)).Response.HostName);

        a.Reply = _ => busy;
        Assert.Equal("b", (await client.ActivateAsync(New()).WaitAsync(Patience)).Response.HostName);

        // a works again, but b failing moves on to c, not back to a.
        a.Reply = _ => HostReply.Answer;
        b.Reply = _ => busy;
        Assert.Equal("c", (await client.ActivateAsync(New()).WaitAsync(Patience)).Response.HostName);
        Assert.Equal(2, a.RequestsReceived);

        // c failing wraps around to a.
        c.Reply = _ => busy;
        Assert.Equal("a", (await client.ActivateAsync(New()).WaitAsync(Patience)).Response.HostName);
        Assert.Equal(a.Address, client.CurrentServer);
        Assert.Equal(3, client.FailoverCount);
    }

    [Fact]
    public async Task Concurrent_callers_during_a_connection_loss_all_get_answers_and_switch_once()
    {
        const int callers = 50;
        // Answers one request, holds the next ones, and crashes when the 20th arrives: every caller then has
        // a request on a connection that breaks, or finds it broken.
        await using var crashing = FakeKmsHost.Start("crashing", n => n switch
        {
            1 => HostReply.Answer,
            < 20 => HostReply.Silence,
            _ => HostReply.Crash,
        });
        await using var standby = FakeKmsHost.Start("standby", HostReply.Answer);
        await using var client = new KmsClient([crashing.Address, standby.Address], Options);
        var failovers = new ConcurrentQueue<KmsFailover>();
        client.FailedOver += (_, failover) => failovers.Enqueue(failover);
        Assert.Equal("crashing", (await client.ActivateAsync(New()).WaitAsync(Patience)).Response.HostName);

        var calls = Enumerable.Range(0, callers).Select(i => Task.Run(() => client.ActivateAsync(New($"pc-{i}"))));
        var results = await Task.WhenAll(calls).WaitAsync(Patience);

        Assert.All(results, r => Assert.Equal("standby", r.Response.HostName));
        Assert.Equal(callers, standby.RequestsReceived);
        Assert.Equal(1, standby.ConnectionsAccepted);
        Assert.Equal(1, client.FailoverCount);
        Assert.Single(failovers);
        Assert.Equal(standby.Address, client.CurrentServer);
    }

    [Fact]
    public async Task Concurrent_callers_share_one_connection()
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);
        await using var client = new KmsClient([host.Address], Options);

        var results = await Task.WhenAll(Enumerable.Range(0, 100)
            .Select(i => Task.Run(() => client.ActivateAsync(New($"pc-{i}"))))).WaitAsync(Patience);

        Assert.All(results, r => Assert.False(r.IsError));
        Assert.Equal(100, host.RequestsReceived);
        Assert.Equal(1, host.ConnectionsAccepted);
    }

    [Fact]
    public async Task A_connection_the_host_closed_while_idle_is_reopened_to_the_same_host_without_failover()
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);
        await using var other = FakeKmsHost.Start("other", HostReply.Answer);
        await using var client = new KmsClient([host.Address, other.Address], Options);
        await client.ActivateAsync(New()).WaitAsync(Patience);

        host.DropConnections();
        await WaitUntilAsync(() => client.CurrentConnectionClosed, "the client to see the connection close");
        var result = await client.ActivateAsync(New()).WaitAsync(Patience);

        Assert.Equal("host", result.Response.HostName);
        Assert.Equal(2, host.ConnectionsAccepted);
        Assert.Equal(0, other.ConnectionsAccepted);
        Assert.Equal(0, client.FailoverCount);
    }

    [Fact]
    public async Task A_request_that_cannot_be_encoded_fails_alone_and_the_shared_connection_keeps_working()
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);
        await using var client = new KmsClient([host.Address], Options);
        await client.ActivateAsync(New()).WaitAsync(Patience);

        await Assert.ThrowsAsync<ArgumentException>(() => client.ActivateAsync(New(new string('x', 300))).WaitAsync(Patience));
        var result = await client.ActivateAsync(New()).WaitAsync(Patience);

        Assert.False(result.IsError);
        Assert.Equal(2, host.RequestsReceived);
        Assert.Equal(1, host.ConnectionsAccepted);
        Assert.Equal(0, client.FailoverCount);
    }

    [Fact]
    public async Task Dispose_closes_the_connections_and_later_calls_fail()
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);
        var client = new KmsClient([host.Address], Options);
        await client.ActivateAsync(New()).WaitAsync(Patience);
        Assert.Equal(1, host.OpenConnections);

        await client.DisposeAsync().AsTask().WaitAsync(Patience);

        await WaitUntilAsync(() => host.OpenConnections == 0, "the host to see the connection close");
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.ActivateAsync(New()));
    }

    [Fact]
    public async Task Dispose_ends_a_call_in_progress()
    {
        await using var silent = FakeKmsHost.Start("silent", HostReply.Silence);
        var client = new KmsClient([silent.Address], Options);
        var call = client.ActivateAsync(New());
        await WaitUntilAsync(() => silent.RequestsReceived == 1, "the request to arrive");

        await client.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => call.WaitAsync(Patience));
    }

    [Fact]
    public async Task Cancellation_by_the_caller_is_not_a_deadline()
    {
        await using var silent = FakeKmsHost.Start("silent", HostReply.Silence);
        await using var client = new KmsClient([silent.Address], Options);
        using var cancel = new CancellationTokenSource();
        var call = client.ActivateAsync(New(), cancel.Token);
        await WaitUntilAsync(() => silent.RequestsReceived == 1, "the request to arrive");

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Patience));
    }

    [Fact]
    public void The_constructor_refuses_no_servers_and_limits_that_are_not_positive()
    {
        var server = new ServerAddress("127.0.0.1", 1688);
        Assert.Throws<ArgumentException>(() => new KmsClient([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KmsClient([server], new KmsClientOptions { ConnectTimeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KmsClient([server], new KmsClientOptions { RequestTimeout = TimeSpan.FromSeconds(-1) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KmsClient([server], new KmsClientOptions { Deadline = Timeout.InfiniteTimeSpan }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KmsClient([server], new KmsClientOptions { RetryDelay = TimeSpan.FromSeconds(-1) }));
        var defaults = new KmsClientOptions();
        Assert.Equal((5, 10, 30, 250), ((int)defaults.ConnectTimeout.TotalSeconds, (int)defaults.RequestTimeout.TotalSeconds,
            (int)defaults.Deadline.TotalSeconds, (int)defaults.RetryDelay.TotalMilliseconds));
    }
}
