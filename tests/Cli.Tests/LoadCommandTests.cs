using System.Text.Json;
using KmsCluster.Cli;
using KmsCluster.Protocol.Wire;
using static KmsCluster.Cli.Tests.LoadTestSupport;

using KmsCluster.Client.Tests;

namespace KmsCluster.Cli.Tests;

/// <summary><c>kms load</c> in closed and open loop against fake hosts on real sockets.</summary>
public sealed class LoadCommandTests
{
    [Fact]
    public async Task Closed_loop_with_requests_gets_exactly_that_many_responses_and_writes_the_json_contract()
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);

        var (exit, report, stdout, stderr) = await RunJsonAsync("--server", host.Address.ToString(),
            "--connections", "4", "--pipeline", "8", "--requests", "1000", "--clients", "250");

        Assert.True(exit == 0, stderr);
        Assert.Empty(stderr);
        Assert.Equal(1000, host.RequestsReceived);
        var expected = new[]
        {
            "mode", "servers", "connections", "pipeline", "rate", "clients", "durationSeconds", "answers", "responses",
            "activated", "notActivated", "errors", "throughput", "latencyMs", "timeline",
        };
        Assert.Equal(expected, report.EnumerateObject().Select(p => p.Name));
        Assert.Equal("closed", report.GetProperty("mode").GetString());
        Assert.Equal([host.Address.ToString()], report.GetProperty("servers").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(4, report.Long("connections"));
        Assert.Equal(8, report.Long("pipeline"));
        Assert.Equal(JsonValueKind.Null, report.GetProperty("rate").ValueKind);
        Assert.Equal(250, report.Long("clients"));
        Assert.True(report.Double("durationSeconds") > 0);
        Assert.Equal(1000, report.Long("answers"));
        Assert.Equal(1000, report.Long("responses"));
        // The fake always answers "count 1/5, not activated".
        Assert.Equal(0, report.Long("activated"));
        Assert.Equal(1000, report.Long("notActivated"));
        Assert.Empty(report.GetProperty("errors").EnumerateObject());
        Assert.True(report.Double("throughput") > 0);
        var latency = report.GetProperty("latencyMs");
        Assert.Equal(["p50", "p90", "p99", "p999", "max", "mean"], latency.EnumerateObject().Select(p => p.Name));
        Assert.True(latency.Double("p50") > 0);
        Assert.True(latency.Double("p50") <= latency.Double("p90"));
        Assert.True(latency.Double("p90") <= latency.Double("p99"));
        Assert.True(latency.Double("p99") <= latency.Double("p999"));
        Assert.True(latency.Double("p999") <= latency.Double("max"));
        var timeline = report.GetProperty("timeline").EnumerateArray().ToArray();
        Assert.NotEmpty(timeline);
        Assert.Equal(Enumerable.Range(1, timeline.Length).Select(i => (long)i), timeline.Select(t => t.Long("second")));
        Assert.Equal(["second", "responses", "errors", "p50Ms", "p99Ms"], timeline[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(1000, timeline.Sum(t => t.Long("responses")));
        // The text report says the same.
        Assert.Contains("responses    1000 (1000 answers, 0 error responses)", stdout);
        Assert.DoesNotContain("\u001b[", stdout);
    }

    [Fact]
    public async Task Clients_are_cycled_with_stable_cmids_so_a_rerun_hits_the_same_machines()
    {
        await using var host = LoadFakeHost.Start();

        var first = await RunAsync("--server", host.Address.ToString(), "--connections", "2", "--pipeline", "4",
            "--requests", "70", "--clients", "7", "--seed", "42");
        Assert.True(first.ExitCode == 0, first.StdErr);
        Assert.Equal(7, host.RequestsByCmid.Count);
        Assert.All(host.RequestsByCmid.Values, n => Assert.Equal(10, n));
        var machines = host.RequestsByCmid.Keys.ToHashSet();

        var again = await RunAsync("--server", host.Address.ToString(), "--requests", "7", "--clients", "7", "--seed", "42");
        Assert.True(again.ExitCode == 0, again.StdErr);
        Assert.Equal(machines, host.RequestsByCmid.Keys.ToHashSet());

        var otherSeed = await RunAsync("--server", host.Address.ToString(), "--requests", "7", "--clients", "7", "--seed", "43");
        Assert.True(otherSeed.ExitCode == 0, otherSeed.StdErr);
        Assert.Equal(14, host.RequestsByCmid.Count);
    }

    [Fact]
    public async Task Error_answers_are_counted_by_code_name_and_the_run_still_exits_0()
    {
        await using var host = FakeKmsHost.Start("host", n => (n % 4) switch
        {
            0 => HostReply.Error(ErrorCode.ServerBusy, "busy"),
            1 when n % 8 == 1 => HostReply.Error((ErrorCode)99, "from a newer host"),
            _ => HostReply.Answer,
        });

        var (exit, report, stdout, stderr) = await RunJsonAsync("--server", host.Address.ToString(),
            "--connections", "2", "--pipeline", "4", "--requests", "400");

        Assert.True(exit == 0, stderr);
        var errors = report.GetProperty("errors");
        Assert.Equal(100, errors.Long("server-busy"));
        Assert.Equal(50, errors.Long("error-99"));
        Assert.Equal(2, errors.EnumerateObject().Count());
        Assert.Equal(400, report.Long("responses"));
        Assert.Equal(250, report.Long("answers"));
        Assert.Equal(150, report.GetProperty("timeline").EnumerateArray().Sum(t => t.Long("errors")));
        Assert.Contains("error-99 50", stdout);
        Assert.Contains("server-busy 100", stdout);
    }

    [Fact]
    public async Task Connections_are_spread_round_robin_over_the_servers()
    {
        await using var a = FakeKmsHost.Start("a", HostReply.Answer);
        await using var b = FakeKmsHost.Start("b", HostReply.Answer);

        var (exit, report, _, stderr) = await RunJsonAsync("--server", a.Address.ToString(), "--server", b.Address.ToString(),
            "--connections", "4", "--pipeline", "2", "--requests", "200");

        Assert.True(exit == 0, stderr);
        // Connections 0 and 2 go to a, 1 and 3 to b.
        Assert.Equal(2, a.ConnectionsAccepted);
        Assert.Equal(2, b.ConnectionsAccepted);
        Assert.Equal(200, a.RequestsReceived + b.RequestsReceived);
        Assert.True(a.RequestsReceived > 0 && b.RequestsReceived > 0);
        Assert.Equal(2, report.GetProperty("servers").GetArrayLength());
    }

    [Fact]
    public async Task Open_loop_latency_includes_the_hosts_delay()
    {
        var delay = TimeSpan.FromMilliseconds(100);
        await using var host = new LoadFakeHost("slow") { Delay = delay };

        var (exit, report, _, stderr) = await RunJsonAsync("--server", host.Address.ToString(),
            "--rate", "50", "--requests", "10", "--connections", "1", "--pipeline", "16");

        Assert.True(exit == 0, stderr);
        Assert.Equal("open", report.GetProperty("mode").GetString());
        Assert.Equal(50, report.Double("rate"));
        Assert.Equal(10, report.Long("responses"));
        // Every answer took at least the host's delay (less a millisecond or two of timer granularity in the fake),
        // measured from the scheduled send time.
        Assert.True(report.GetProperty("latencyMs").Double("p50") >= delay.TotalMilliseconds - 3, report.ToString());
    }

    [Fact]
    public async Task Open_loop_latency_counts_from_the_schedule_so_a_host_that_falls_behind_shows_its_queue()
    {
        // One request at a time, 20 ms each: the host manages 50 requests/s, the schedule asks for 200/s.
        var serviceTime = TimeSpan.FromMilliseconds(20);
        await using var host = new LoadFakeHost("single-queue") { ServiceTime = serviceTime };

        var (exit, report, _, stderr) = await RunJsonAsync("--server", host.Address.ToString(),
            "--rate", "200", "--requests", "40", "--connections", "1", "--pipeline", "1");

        Assert.True(exit == 0, stderr);
        Assert.Equal(40, report.Long("responses"));
        // Request 40 was due at 195 ms and cannot be answered before 40 x 20 = 800 ms: it waited at least 605 ms.
        // A generator that timed from its own (late) send would see about 20 ms for every request.
        var latency = report.GetProperty("latencyMs");
        Assert.True(latency.Double("max") >= 600, report.ToString());
        Assert.True(latency.Double("p99") > 10 * serviceTime.TotalMilliseconds, report.ToString());
        Assert.True(latency.Double("p50") > 5 * serviceTime.TotalMilliseconds, report.ToString());
    }

    [Fact]
    public async Task A_warmup_runs_the_same_load_first_and_reports_only_what_follows()
    {
        // The first 100 requests (due in the first 0.1 s of a 1 s warm-up) are refused; none of that is reported.
        await using var host = new LoadFakeHost("cold") { Refuse = n => n < 100 ? ErrorCode.ServerBusy : null };

        var (exit, report, stdout, stderr) = await RunJsonAsync("--server", host.Address.ToString(),
            "--rate", "1000", "--warmup", "1s", "--duration", "1s", "--connections", "2", "--pipeline", "16");

        Assert.True(exit == 0, stderr);
        Assert.Equal(1, report.Double("warmupSeconds"));
        Assert.Empty(report.GetProperty("errors").EnumerateObject());
        Assert.Equal(report.Long("responses"), report.Long("answers"));
        // The warm-up's requests reached the host on the same connections, and are not in the report.
        Assert.True(host.RequestsReceived >= report.Long("responses") + 100, $"{host.RequestsReceived} received; {report}");
        Assert.Equal(2, host.ConnectionsAccepted);
        var timeline = report.GetProperty("timeline").EnumerateArray().ToArray();
        Assert.Equal(Enumerable.Range(1, timeline.Length).Select(i => (long)i), timeline.Select(t => t.Long("second")));
        Assert.Equal(report.Long("responses"), timeline.Sum(t => t.Long("responses")));
        Assert.Contains("after a 1 s warm-up (not reported)", stdout);
    }

    [Fact]
    public async Task Closed_loop_latency_is_the_service_time_when_the_generator_waits_for_each_answer()
    {
        // The same host as above in a closed loop: every request is sent when the previous one is answered, so the
        // queue never builds and the latency is the service time. (Contrast with the open loop.)
        var serviceTime = TimeSpan.FromMilliseconds(20);
        await using var host = new LoadFakeHost("single-queue") { ServiceTime = serviceTime };

        var (exit, report, _, stderr) = await RunJsonAsync("--server", host.Address.ToString(),
            "--requests", "10", "--connections", "1", "--pipeline", "1");

        Assert.True(exit == 0, stderr);
        Assert.Equal(10, report.Long("responses"));
        Assert.True(report.GetProperty("latencyMs").Double("p50") >= serviceTime.TotalMilliseconds - 3, report.ToString());
    }

    [Fact]
    public async Task Html_report_is_a_self_contained_page_with_svg_charts()
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);
        var path = Path.Combine(Path.GetTempPath(), $"kms-load-{Guid.NewGuid():n}.html");
        try
        {
            var (exit, _, stderr) = await RunAsync("--server", host.Address.ToString(), "--requests", "100", "--html", path);

            Assert.True(exit == 0, stderr);
            var html = await File.ReadAllTextAsync(path);
            Assert.StartsWith("<!DOCTYPE html>", html);
            Assert.Equal(2, html.Split("<svg").Length - 1);
            // A run shorter than a second has one point per series: a dot instead of a line.
            Assert.True(html.Contains("<polyline", StringComparison.Ordinal) || html.Contains("<circle", StringComparison.Ordinal));
            Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("href=", html, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(host.Address.ToString(), html);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task An_unreachable_server_exits_3_with_one_line_naming_it()
    {
        await using var up = FakeKmsHost.Start("up", HostReply.Answer);
        var down = FakeKmsHost.Unused();

        var (exit, stdout, stderr) = await RunAsync("--server", up.Address.ToString(), "--server", down.ToString(), "--requests", "10");

        Assert.Equal(ExitCodes.Unreachable, exit);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"kms load: cannot connect to {down}: ", line);
        Assert.Equal(0, up.RequestsReceived);
    }

    [Fact]
    public async Task When_the_only_server_stops_answering_for_the_whole_run_the_exit_code_is_3()
    {
        await using var silent = FakeKmsHost.Start("silent", HostReply.Silence);

        var (exit, stdout, stderr) = await RunAsync("--server", silent.Address.ToString(), "--requests", "5",
            "--pipeline", "5", "--connections", "1", "--timeout", "300ms");

        Assert.Equal(ExitCodes.Unreachable, exit);
        Assert.Contains("no-answer 5", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kms load: nothing answered", line);
    }

    [Theory]
    [InlineData("--connections", "0")]
    [InlineData("--connections", "-3")]
    [InlineData("--pipeline", "0")]
    [InlineData("--clients", "0")]
    [InlineData("--clients", "-1")]
    [InlineData("--requests", "0")]
    [InlineData("--requests", "-5")]
    [InlineData("--rate", "abc")]
    [InlineData("--rate", "-10")]
    [InlineData("--rate", "0")]
    [InlineData("--rate", "NaN")]
    [InlineData("--duration", "soon")]
    [InlineData("--duration", "-5s")]
    [InlineData("--duration", "0")]
    [InlineData("--warmup", "soon")]
    [InlineData("--warmup", "0")]
    [InlineData("--timeout", "never")]
    [InlineData("--product", "windows-99-ultimate")]
    [InlineData("--connections", "many")]
    [InlineData("--time-scale", "100")]
    [InlineData("--boot-storm", null)]
    [InlineData("--json", "/nonexistent-directory/report.json")]
    public async Task Bad_use_exits_4_with_one_line_and_no_stack_trace(string option, string? value)
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);
        string[] args = value is null
            ? ["--server", host.Address.ToString(), option]
            : ["--server", host.Address.ToString(), option, value];

        var (exit, stdout, stderr) = await RunAsync(args);

        Assert.True(exit == ExitCodes.Usage, $"exit {exit}: {stderr}");
        Assert.Empty(stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kms load: ", line);
        Assert.DoesNotContain(" at ", line.Replace("at most", "", StringComparison.Ordinal));
        Assert.Equal(0, host.RequestsReceived);
    }

    [Theory]
    [InlineData("--duration", "5s", "--requests", "10")]
    [InlineData("--fleet", "--rate", "10", "--duration", "1s")]
    [InlineData("--fleet", "--warmup", "1s", "--duration", "1s")]
    [InlineData("--warmup", "1s", "--requests", "10")]
    public async Task Conflicting_options_exit_4(params string[] options)
    {
        await using var host = FakeKmsHost.Start("host", HostReply.Answer);

        var (exit, _, stderr) = await RunAsync(["--server", host.Address.ToString(), .. options]);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.StartsWith("kms load: ", stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Missing_server_and_a_bad_address_are_usage_errors()
    {
        var missing = await RunAsync("--requests", "10");
        Assert.Equal(ExitCodes.Usage, missing.ExitCode);
        Assert.Contains("--server", missing.StdErr);

        var bad = await RunAsync("--server", "127.0.0.1:none", "--requests", "10");
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
        Assert.Contains("127.0.0.1:none", bad.StdErr);
    }
}
