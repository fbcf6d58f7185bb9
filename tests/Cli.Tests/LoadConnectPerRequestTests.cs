using System.Text.Json;
using KmsCluster.Cli.Load;
using KmsCluster.Protocol.Catalog;
using static KmsCluster.Cli.Tests.LoadTestSupport;
using static KmsCluster.Client.Tests.TestRequests;

using KmsCluster.Client.Tests;

namespace KmsCluster.Cli.Tests;

/// <summary><c>kms load --connect-per-request</c>: every request on a TCP connection of its own, in all three modes,
/// against fake hosts on real sockets. Each host also accepts the one connection that checks it before the run.</summary>
public sealed class LoadConnectPerRequestTests
{
    private const int Probe = 1;

    [Fact]
    public async Task Closed_loop_opens_a_connection_per_request_and_reports_the_connections()
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);

        var (exit, report, stdout, stderr) = await RunJsonAsync("--server", host.Address.ToString(), "--connect-per-request",
            "--connections", "4", "--requests", "200", "--clients", "50");

        Assert.True(exit == 0, stderr);
        Assert.Equal(200, host.RequestsReceived);
        Assert.Equal(Probe + 200, host.ConnectionsAccepted);
        Assert.Equal(200, report.Long("answers"));
        Assert.Empty(report.GetProperty("errors").EnumerateObject());
        Assert.Equal(4, report.Long("connections"));
        Assert.Equal(1, report.Long("pipeline"));
        Assert.Equal("connects", report.EnumerateObject().Last().Name);
        var connects = report.GetProperty("connects");
        Assert.Equal(["opened", "perSecond", "errors", "latencyMs"], connects.EnumerateObject().Select(p => p.Name));
        Assert.Equal(200, connects.Long("opened"));
        Assert.True(connects.Double("perSecond") > 0);
        Assert.Empty(connects.GetProperty("errors").EnumerateObject());
        var latency = connects.GetProperty("latencyMs");
        Assert.Equal(["p50", "p90", "p99", "p999", "max", "mean"], latency.EnumerateObject().Select(p => p.Name));
        Assert.True(latency.Double("p50") > 0 && latency.Double("p50") <= latency.Double("max"));
        Assert.Contains("closed loop, 4 workers each opening a connection per request", stdout);
        Assert.Contains("connections  200 opened, ", stdout);
        Assert.Contains("/s; connect errors none", stdout);
        Assert.Contains("connect ms   p50 ", stdout);
        // Every connection was closed by the client after its answer.
        await WaitUntilAsync(() => host.OpenConnections == 0, "every connection closed");
    }

    [Fact]
    public async Task Refused_connections_are_connect_errors_not_request_errors()
    {
        // Request 10 crashes the host: its connection drops (no answer) and the host stops listening, so every later
        // connection is refused. One worker, so the order is fixed.
        await using var host = FakeKmsHost.Start("crashing", n => n < 10 ? HostReply.Answer : HostReply.Crash);

        var (exit, report, stdout, stderr) = await RunJsonAsync("--server", host.Address.ToString(), "--connect-per-request",
            "--connections", "1", "--requests", "50");

        Assert.True(exit == 0, stderr);
        Assert.Equal(Probe + 10, host.ConnectionsAccepted);
        Assert.Equal(9, report.Long("answers"));
        var errors = report.GetProperty("errors");
        Assert.Equal(1, errors.Long(LoadStats.NoAnswer));
        Assert.Single(errors.EnumerateObject());
        Assert.Equal(1, report.GetProperty("timeline").EnumerateArray().Sum(t => t.Long("errors")));
        var connects = report.GetProperty("connects");
        Assert.Equal(10, connects.Long("opened"));
        Assert.Equal(40, connects.GetProperty("errors").Long("refused"));
        Assert.Single(connects.GetProperty("errors").EnumerateObject());
        Assert.Contains("connect errors refused 40", stdout);
        Assert.Contains("errors       no-answer 1", stdout);
    }

    [Fact]
    public async Task When_every_connection_is_refused_the_run_exits_3_and_says_so()
    {
        await using var host = FakeKmsHost.Start("crashing", HostReply.Crash);

        var (exit, stdout, stderr) = await RunAsync("--server", host.Address.ToString(), "--connect-per-request",
            "--connections", "1", "--requests", "20");

        Assert.Equal(ExitCodes.Unreachable, exit);
        Assert.Contains("connect errors refused 19", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("kms load: nothing answered during the run (19 connections failed: refused 19)", line.TrimEnd());
    }

    [Theory]
    [InlineData("2")]
    [InlineData("16")]
    public async Task A_pipeline_deeper_than_one_is_a_usage_error(string pipeline)
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);

        var (exit, stdout, stderr) = await RunAsync("--server", host.Address.ToString(), "--connect-per-request",
            "--pipeline", pipeline, "--requests", "5");

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kms load: --connect-per-request sends one request per connection: --pipeline must be 1", line);
        Assert.Equal(0, host.ConnectionsAccepted);
    }

    [Fact]
    public async Task A_run_with_a_connection_per_request_and_a_deeper_pipeline_is_refused()
    {
        var options = new LoadOptions { Servers = [FakeKmsHost.Unused()], ConnectPerRequest = true, Pipeline = 2, Requests = 1 };

        await Assert.ThrowsAsync<ArgumentException>(() =>
            LoadRun.RunAsync(options, new Fleet(1, 1, Fleet.Mix(ProductCatalog.Default, null)), null, CancellationToken.None));
    }

    [Fact]
    public async Task Open_loop_latency_counts_from_the_schedule_and_each_request_has_its_own_connection()
    {
        // 100 requests/s on one worker, each answered after 50 ms: request k is due at 10k ms and cannot be answered
        // before 50 (k + 1) ms, so the last of ten waits at least 410 ms from its due time.
        await using var host = new LoadFakeHost("slow") { Delay = TimeSpan.FromMilliseconds(50) };

        var (exit, report, _, stderr) = await RunJsonAsync("--server", host.Address.ToString(), "--connect-per-request",
            "--pipeline", "1", "--rate", "100", "--requests", "10", "--connections", "1");

        Assert.True(exit == 0, stderr);
        Assert.Equal("open", report.GetProperty("mode").GetString());
        Assert.Equal(10, report.Long("responses"));
        Assert.Equal(Probe + 10, host.ConnectionsAccepted);
        Assert.Equal(10, report.GetProperty("connects").Long("opened"));
        Assert.True(report.GetProperty("latencyMs").Double("max") >= 400, report.ToString());
        // Each request came on a connection of its own (the host numbers them in the order it accepted them).
        Assert.Equal(10, host.Arrivals.Select(a => a.Connection).Distinct().Count());
    }

    [Fact]
    public async Task Fleet_machines_connect_per_request_and_fail_over()
    {
        // One client over two servers: the first answers two requests and crashes on the third; the client moves to
        // the second, which answers the rest.
        await using var first = FakeKmsHost.Start("first", n => n <= 2 ? HostReply.Answer : HostReply.Crash);
        await using var second = FakeKmsHost.Start("second", HostReply.Answer);

        var (exit, report, stdout, stderr) = await RunJsonAsync("--server", first.Address.ToString(), "--server", second.Address.ToString(),
            "--fleet", "--boot-storm", "--connect-per-request", "--clients", "20", "--connections", "1",
            "--time-scale", "72000", "--duration", "1s", "--timeout", "2s");

        Assert.True(exit == 0, stderr);
        Assert.Equal(3, first.RequestsReceived);
        Assert.Equal(Probe + 3, first.ConnectionsAccepted);
        Assert.True(second.RequestsReceived >= 18, $"{second.RequestsReceived} requests");
        Assert.Equal(Probe + second.RequestsReceived, second.ConnectionsAccepted);
        Assert.Equal(1, report.GetProperty("fleet").Long("failovers"));
        Assert.Equal(first.RequestsReceived + second.RequestsReceived, report.GetProperty("connects").Long("opened"));
        Assert.True(report.Long("answers") >= 20);
        Assert.Contains("1 clients each opening a connection per request", stdout);
    }

    [Fact]
    public async Task Fleet_requests_that_find_no_host_count_as_connect_errors_only()
    {
        // The only server crashes on request 5: every later attempt is refused until the client's deadline.
        await using var host = FakeKmsHost.Start("crashing", n => n < 5 ? HostReply.Answer : HostReply.Crash);

        var (exit, report, _, stderr) = await RunJsonAsync("--server", host.Address.ToString(), "--fleet", "--boot-storm",
            "--connect-per-request", "--clients", "10", "--connections", "1", "--time-scale", "72000", "--duration", "1s",
            "--timeout", "200ms");

        Assert.True(exit == 0, stderr);
        Assert.Equal(4, report.Long("answers"));
        Assert.Equal(Probe + 5, host.ConnectionsAccepted);
        Assert.True(report.GetProperty("connects").GetProperty("errors").Long("refused") >= 1, report.ToString());
        // The machine whose request crashed the host, and the later ones, found no host: no request went unanswered.
        Assert.Empty(report.GetProperty("errors").EnumerateObject());
    }

    [Fact]
    public async Task The_html_report_shows_the_connections()
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);
        var path = Path.Combine(Path.GetTempPath(), $"kms-load-{Guid.NewGuid():n}.html");
        try
        {
            var (exit, _, stderr) = await RunAsync("--server", host.Address.ToString(), "--connect-per-request",
                "--requests", "20", "--html", path);

            Assert.True(exit == 0, stderr);
            var html = await File.ReadAllTextAsync(path);
            Assert.Contains("<th>connections</th><td>20 opened, ", html);
            Assert.Contains("<th>connect errors</th><td>none</td>", html);
            Assert.Contains("<th>connect latency (ms)</th><td>p50 ", html);
            Assert.Contains("8 workers, a new connection per request", html);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Without_the_flag_the_report_has_no_connections()
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);

        var (exit, report, stdout, stderr) = await RunJsonAsync("--server", host.Address.ToString(), "--requests", "20");

        Assert.True(exit == 0, stderr);
        Assert.False(report.TryGetProperty("connects", out _));
        Assert.DoesNotContain("connect errors", stdout);
        Assert.DoesNotContain("connect ms", stdout);
        Assert.Equal(JsonValueKind.Number, report.GetProperty("pipeline").ValueKind);
    }
}
