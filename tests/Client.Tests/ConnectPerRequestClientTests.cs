using System.Collections.Concurrent;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Tests;

/// <summary>A connection per request, as KMS clients connect, against fake hosts on real loopback sockets.</summary>
public sealed class ConnectPerRequestClientTests
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Each_request_opens_its_own_connection_and_closes_it_after_the_answer()
    {
        await using var host = FakeKmsHost.Start("own", HostReply.Answer);
        var observer = new CountingObserver();
        using var client = new ConnectPerRequestClient(observer);

        for (var i = 0; i < 5; i++)
        {
            var outcome = await client.ActivateAsync(host.Address, TestRequests.New(), ConnectTimeout, TestRequests.Patience);

            Assert.True(outcome.IsAnswered, outcome.ToString());
            Assert.Equal("own", outcome.Result.Response.HostName);
            Assert.True(client.LastExchangeConnected);
        }

        Assert.Equal(5, host.ConnectionsAccepted);
        Assert.Equal(5, host.RequestsReceived);
        await AssertOpenedAndClosedAsync(observer, host, 5);
    }

    [Fact]
    public async Task A_host_by_name_is_resolved_and_answers()
    {
        await using var host = FakeKmsHost.Start("named", HostReply.Answer);
        using var client = new ConnectPerRequestClient();
        var byName = new ServerAddress("localhost", host.Address.Port);

        var first = await client.ActivateAsync(byName, TestRequests.New(), ConnectTimeout, TestRequests.Patience);
        var second = await client.ActivateAsync(byName, TestRequests.New(), ConnectTimeout, TestRequests.Patience);

        Assert.True(first.IsAnswered, first.ToString());
        Assert.True(second.IsAnswered, second.ToString());
        Assert.Equal(2, host.ConnectionsAccepted);
    }

    [Fact]
    public async Task An_error_answer_is_an_answer()
    {
        await using var host = FakeKmsHost.Start("busy", HostReply.Error(ErrorCode.ServerBusy, "busy"));
        using var client = new ConnectPerRequestClient();

        var outcome = await client.ActivateAsync(host.Address, TestRequests.New(), ConnectTimeout, TestRequests.Patience);

        Assert.True(outcome.IsAnswered);
        Assert.True(outcome.Result.IsError);
        Assert.Equal(ErrorCode.ServerBusy, outcome.Result.Error.Code);
    }

    [Fact]
    public async Task A_refused_connection_is_a_connect_failure_told_to_the_observer_and_the_client_goes_on()
    {
        var down = FakeKmsHost.Unused();
        await using var up = FakeKmsHost.Start("up", HostReply.Answer);
        var observer = new CountingObserver();
        using var client = new ConnectPerRequestClient(observer);

        var refused = await client.ActivateAsync(down, TestRequests.New(), ConnectTimeout, TestRequests.Patience);
        Assert.False(client.LastExchangeConnected);
        var answered = await client.ActivateAsync(up.Address, TestRequests.New(), ConnectTimeout, TestRequests.Patience);

        Assert.Equal(ExchangeFailure.ConnectRefused, refused.Failure);
        Assert.True(refused.Failure.IsConnectFailure());
        Assert.Equal("refused", refused.Failure.ConnectFailureName());
        Assert.True(answered.IsAnswered);
        Assert.Equal([ExchangeFailure.ConnectRefused], observer.Failures);
        Assert.Equal(1, observer.Connected);
        var thrown = Assert.Throws<KmsConnectionException>(() => refused.ResultOrThrow(down, ConnectTimeout, TestRequests.Patience, default));
        Assert.StartsWith($"cannot connect to {down}: ", thrown.Message);
    }

    [Fact]
    public async Task A_host_that_does_not_answer_times_out_after_connecting()
    {
        await using var host = FakeKmsHost.Start("silent", HostReply.Silence);
        var observer = new CountingObserver();
        using var client = new ConnectPerRequestClient(observer);

        var outcome = await client.ActivateAsync(host.Address, TestRequests.New(), ConnectTimeout, TimeSpan.FromMilliseconds(200));

        Assert.Equal(ExchangeFailure.AnswerTimeout, outcome.Failure);
        Assert.False(outcome.Failure.IsConnectFailure());
        await AssertOpenedAndClosedAsync(observer, host, 1);
    }

    [Fact]
    public async Task A_host_that_closes_before_answering_is_no_answer()
    {
        await using var host = FakeKmsHost.Start("closing", HostReply.CloseConnection);
        using var client = new ConnectPerRequestClient();

        var outcome = await client.ActivateAsync(host.Address, TestRequests.New(), ConnectTimeout, TestRequests.Patience);

        // The fake closes with a reset; an orderly close would be Closed.
        Assert.Contains(outcome.Failure, new[] { ExchangeFailure.ConnectionLost, ExchangeFailure.Closed });
    }

    [Fact]
    public async Task Cancelling_ends_the_exchange_and_dispose_ends_later_ones()
    {
        await using var host = FakeKmsHost.Start("silent", HostReply.Silence);
        var client = new ConnectPerRequestClient();
        using var cancel = new CancellationTokenSource();

        var exchange = client.ActivateAsync(host.Address, TestRequests.New(), ConnectTimeout, TestRequests.Patience, cancel.Token).AsTask();
        await TestRequests.WaitUntilAsync(() => host.RequestsReceived == 1, "the request");
        await cancel.CancelAsync();

        Assert.Equal(ExchangeFailure.Cancelled, (await exchange.WaitAsync(TestRequests.Patience)).Failure);
        client.Dispose();
        var after = await client.ActivateAsync(host.Address, TestRequests.New(), ConnectTimeout, TestRequests.Patience);
        Assert.Equal(ExchangeFailure.Aborted, after.Failure);
        Assert.Equal(1, host.ConnectionsAccepted);
    }

    [Fact]
    public async Task A_kms_client_fails_over_on_its_own_connections()
    {
        var down = FakeKmsHost.Unused();
        await using var up = FakeKmsHost.Start("up", HostReply.Answer);
        await using var client = new KmsClient([down, up.Address]);
        var observer = new CountingObserver();
        using var perRequest = new ConnectPerRequestClient(observer);

        var first = await client.RequestOnOwnConnectionAsync(TestRequests.New(), perRequest);
        var second = await client.RequestOnOwnConnectionAsync(TestRequests.New(), perRequest);

        Assert.Equal(up.Address, first.Server);
        Assert.Equal(up.Address, second.Server);
        Assert.Equal(1, client.FailoverCount);
        Assert.Equal(2, up.ConnectionsAccepted);
        Assert.Equal([ExchangeFailure.ConnectRefused], observer.Failures);
    }

    /// <summary>The client opened <paramref name="connections"/> connections, failed to open none, and closed every one.</summary>
    private static async Task AssertOpenedAndClosedAsync(CountingObserver observer, FakeKmsHost host, int connections)
    {
        Assert.Equal(connections, observer.Connected);
        Assert.Empty(observer.Failures);
        await TestRequests.WaitUntilAsync(() => host.OpenConnections == 0, "the host to see every connection closed");
    }

    private sealed class CountingObserver : IConnectObserver
    {
        private int _connected;

        public int Connected => Volatile.Read(ref _connected);

        public ConcurrentQueue<ExchangeFailure> Failures { get; } = new();

        void IConnectObserver.Connected(long stopwatchTicks)
        {
            Assert.True(stopwatchTicks >= 0);
            Interlocked.Increment(ref _connected);
        }

        void IConnectObserver.ConnectFailed(ExchangeFailure failure) => Failures.Enqueue(failure);
    }
}
