using System.Diagnostics;
using KmsCluster.Client.Connection;
using KmsCluster.Cli.Load;
using KmsCluster.Protocol.Catalog;
using static KmsCluster.Client.Tests.TestRequests;

using KmsCluster.Client.Tests;

namespace KmsCluster.Cli.Tests;

/// <summary>The pieces of <c>kms load</c>: durations, the simulated fleet, cancellation.</summary>
public sealed class LoadUnitTests
{
    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("2m", 120_000)]
    [InlineData("500ms", 500)]
    [InlineData("30", 30_000)]
    [InlineData("1.5", 1_500)]
    [InlineData("1h", 3_600_000)]
    [InlineData(" 10S ", 10_000)]
    public void Durations_accept_units_and_plain_seconds(string text, double milliseconds)
    {
        Assert.True(LoadCommand.TryParseDuration(text, out var duration, out var error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("ten seconds")]
    [InlineData("5x")]
    [InlineData("-5s")]
    [InlineData("0")]
    [InlineData("0ms")]
    [InlineData("1e3")]
    [InlineData("40d")]
    [InlineData("999999h")]
    public void Durations_refuse_nonsense_zero_and_negative(string text)
    {
        Assert.False(LoadCommand.TryParseDuration(text, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void Machine_ids_are_stable_distinct_and_depend_on_the_seed()
    {
        var ids = Enumerable.Range(0, 10_000).Select(i => Fleet.MachineId(7, i)).ToArray();
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.Equal(ids, Enumerable.Range(0, 10_000).Select(i => Fleet.MachineId(7, i)));
        Assert.DoesNotContain(Guid.Empty, ids);
        Assert.Empty(ids.Intersect(Enumerable.Range(0, 10_000).Select(i => Fleet.MachineId(8, i))));
        // RFC 9562 version 8, RFC variant.
        Assert.All(ids.Take(100), id => Assert.Equal(8, id.Version));
        Assert.All(ids.Take(100), id => Assert.Equal('8', id.ToString()[14]));
    }

    [Fact]
    public void Machines_have_numbered_workstation_names()
    {
        var fleet = new Fleet(1_000_000, 1, Fleet.Mix(ProductCatalog.Default, null));
        Assert.Equal("load-000000", fleet.NameOf(0));
        Assert.Equal("load-000042", fleet.NameOf(42));
        Assert.Equal("load-999999", fleet.NameOf(999_999));
    }

    [Fact]
    public void The_default_mix_is_mostly_windows_clients_with_some_servers_and_office()
    {
        var catalog = ProductCatalog.Default;
        var mix = Fleet.Mix(catalog, null);
        Assert.Equal(100, mix.Sum(s => s.Weight));
        var fleet = new Fleet(20_000, 1, mix);
        var byKind = Enumerable.Range(0, fleet.Count).GroupBy(i => fleet.Products[fleet.ProductOf(i)].Kind)
            .ToDictionary(g => g.Key, g => g.Count() / (double)fleet.Count);
        Assert.InRange(byKind[ProductKind.WindowsClient], 0.76, 0.84);
        Assert.InRange(byKind[ProductKind.WindowsServer], 0.08, 0.12);
        Assert.InRange(byKind[ProductKind.Office], 0.08, 0.12);
        // The same seed gives every machine the same edition again.
        var again = new Fleet(20_000, 1, mix);
        Assert.All(Enumerable.Range(0, 1000), i => Assert.Equal(fleet.ProductOf(i), again.ProductOf(i)));
    }

    [Fact]
    public void Product_restricts_the_mix_to_the_given_editions_in_equal_shares()
    {
        var catalog = ProductCatalog.Default;
        var server = catalog.FindProduct("windows-server-2025-standard")!;
        var office = catalog.FindProduct("office-2019-standard")!;
        var fleet = new Fleet(10_000, 3, Fleet.Mix(catalog, [server, office]));
        Assert.Equal([server, office], fleet.Products);
        var servers = Enumerable.Range(0, fleet.Count).Count(i => fleet.ProductOf(i) == 0);
        Assert.InRange(servers, 4_500, 5_500);
    }

    [Fact]
    public async Task Cancelling_stops_the_run_early_and_still_reports()
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);
        var options = new LoadOptions
        {
            Servers = [host.Address],
            Connections = 2,
            Pipeline = 2,
            Clients = 100,
            Duration = TimeSpan.FromMinutes(10),
        };
        using var ctrlC = new CancellationTokenSource();
        var progress = new List<LoadProgress>();
        var run = LoadRun.RunAsync(options, new Fleet(100, 1, Fleet.Mix(ProductCatalog.Default, null)), p =>
        {
            lock (progress)
            {
                progress.Add(p);
            }
        }, ctrlC.Token);
        await WaitUntilAsync(() => host.RequestsReceived > 100, "requests");
        ctrlC.CancelAfter(TimeSpan.FromMilliseconds(1200));

        var result = await run.WaitAsync(Patience);

        Assert.True(result.Cancelled);
        Assert.True(result.Elapsed < TimeSpan.FromMinutes(1));
        Assert.True(result.Summary.Responses > 100);
        Assert.Equal(result.Summary.Responses, result.Summary.Answers);
        Assert.Empty(result.Summary.Errors);
        // At least one live sample came while it ran.
        lock (progress)
        {
            Assert.NotEmpty(progress);
            Assert.True(progress[0].Responses > 0);
        }
        Assert.Equal(result.Summary.Responses, result.Summary.Timeline.Sum(t => t.Responses));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(4, 1)]
    [InlineData(4, 2)]
    [InlineData(3, 16)]
    public void Open_loop_deals_requests_to_connections_in_blocks_round_robin(int connections, int block)
    {
        var taken = new long[connections];
        for (var n = 0L; n < 1000; n++)
        {
            var connection = PacedRun.ConnectionOf(n, connections, block);
            Assert.Equal(n / block % connections, connection);
            // Each connection's requests in order, none skipped.
            Assert.Equal(n, PacedRun.RequestNumber(connection, taken[connection]++, connections, block));
        }
        // The first blocks: connection 0 gets requests 0 .. block - 1, connection 1 the next block, and so on.
        Assert.Equal(block, PacedRun.RequestNumber(connections > 1 ? 1 : 0, connections > 1 ? 0 : block, connections, block));
    }

    [Theory]
    [InlineData(50, 16, 1)]
    [InlineData(2000, 4, 2)]
    [InlineData(100_000, 16, 16)]
    [InlineData(100_000, 4096, 100)]
    public void Open_loop_blocks_are_about_a_millisecond_of_requests_at_most_the_pipeline(double rate, int pipeline, int block) =>
        Assert.Equal(block, PacedRun.BlockSize(rate, pipeline));

    [Fact]
    public async Task Open_loop_never_sends_early_skips_no_slot_and_sends_about_rate_times_duration()
    {
        // 2000 requests/s for 1.5 s over 4 connections x 4 lanes, answered at once: requests 0 to 2999 are due.
        const double rate = 2000;
        const int clients = 10_000; // more machines than requests: request n is machine n, so a CMID names its request
        await using var host = LoadFakeHost.Start();
        var options = new LoadOptions
        {
            Servers = [host.Address],
            Mode = LoadMode.Open,
            Rate = rate,
            Duration = TimeSpan.FromSeconds(1.5),
            Connections = 4,
            Pipeline = 4,
            Clients = clients,
            Seed = 5,
        };
        var number = Enumerable.Range(0, clients).ToDictionary(i => Fleet.MachineId(5, i), i => (long)i);
        // The run's clock starts after this (it connects first), so "due no earlier than before + n / rate" holds.
        var before = Stopwatch.GetTimestamp();

        var result = await LoadRun.RunAsync(options, new Fleet(clients, 5, Fleet.Mix(ProductCatalog.Default, null)), null, CancellationToken.None)
            .WaitAsync(Patience);

        const long due = 3000;
        var arrivals = host.Arrivals.Select(a => (a.Timestamp, N: number[a.Cmid], a.Connection)).OrderBy(a => a.Timestamp).ToArray();
        Assert.Empty(result.Summary.Errors);
        Assert.Equal(result.Summary.Responses, arrivals.Length);
        Assert.All(arrivals, a => Assert.InRange(a.N, 0, due - 1));
        Assert.Equal(arrivals.Length, arrivals.Select(a => a.N).Distinct().Count());
        // Never early: when the k-th request (from 0) arrived, k + 1 distinct requests had been sent, so one of them
        // was request k or later, and that was due no earlier than request k.
        for (var k = 0; k < arrivals.Length; k++)
        {
            var dueAt = before + (long)(k * (Stopwatch.Frequency / rate));
            Assert.True(arrivals[k].Timestamp >= dueAt,
                $"{k + 1} requests arrived {(dueAt - arrivals[k].Timestamp) * 1000.0 / Stopwatch.Frequency:0.###} ms before request {k} was due");
        }
        // No request skipped: each connection sent the first of the requests dealt to it, and only those.
        var block = PacedRun.BlockSize(rate, options.Pipeline);
        Assert.Equal(2, block);
        var connections = arrivals.GroupBy(a => a.Connection).ToArray();
        Assert.Equal(options.Connections, connections.Length);
        foreach (var connection in connections)
        {
            var numbers = connection.Select(a => a.N).Order().ToArray();
            var owner = PacedRun.ConnectionOf(numbers[0], options.Connections, block);
            Assert.Equal(Enumerable.Range(0, numbers.Length).Select(k => PacedRun.RequestNumber(owner, k, options.Connections, block)), numbers);
        }
        // Every due request is sent, unless the machine stalls the generator right at the end (then those are dropped,
        // not sent after the end): about rate x duration, never more. (A pacer that never woke idle lanes would send
        // about a tenth.)
        Assert.InRange(arrivals.Length, due / 2, due);
    }

    [Fact]
    public async Task Open_loop_with_a_request_count_sends_every_request_and_takes_at_least_count_over_rate()
    {
        await using var host = LoadFakeHost.Start();
        var options = new LoadOptions
        {
            Servers = [host.Address],
            Mode = LoadMode.Open,
            Rate = 1000,
            Requests = 500,
            Connections = 3,
            Pipeline = 8,
            Clients = 1000,
        };

        var result = await LoadRun.RunAsync(options, new Fleet(1000, 1, Fleet.Mix(ProductCatalog.Default, null)), null, CancellationToken.None)
            .WaitAsync(Patience);

        Assert.Equal(500, host.RequestsReceived);
        Assert.Equal(500, result.Summary.Responses);
        Assert.Empty(result.Summary.Errors);
        // Request 499 is due 499 ms after the start and none leaves early.
        Assert.True(result.Elapsed >= TimeSpan.FromMilliseconds(499), result.Elapsed.ToString());
    }

    [Fact]
    public async Task A_connection_lost_in_a_closed_loop_is_counted_and_the_run_reconnects()
    {
        // The host drops the connection on request 50, then answers again on new connections.
        await using var host = FakeKmsHost.Start("flaky", n => n == 50 ? HostReply.CloseConnection : HostReply.Answer);
        var options = new LoadOptions { Servers = [host.Address], Connections = 1, Pipeline = 1, Clients = 10, Requests = 200 };

        var result = await LoadRun.RunAsync(options, new Fleet(10, 1, Fleet.Mix(ProductCatalog.Default, null)), null, CancellationToken.None)
            .WaitAsync(Patience);

        Assert.Equal(199, result.Summary.Responses);
        Assert.Equal(1, result.Summary.Errors["no-answer"]);
        Assert.Equal(2, host.ConnectionsAccepted);
    }
}
