using KmsCluster.Client.Connection;
using KmsCluster.Client.Load;
using KmsCluster.Protocol.Catalog;
using static KmsCluster.Client.Tests.TestRequests;

namespace KmsCluster.Client.Tests;

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
        Assert.True(Durations.TryParse(text, out var duration, out var error), error);
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
        Assert.False(Durations.TryParse(text, out _, out var error));
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
