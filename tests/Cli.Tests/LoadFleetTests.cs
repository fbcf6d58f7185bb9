using KmsCluster.Protocol.Catalog;
using static KmsCluster.Cli.Tests.LoadTestSupport;

using KmsCluster.Client.Tests;

namespace KmsCluster.Cli.Tests;

/// <summary><c>kms load --fleet</c>: simulated machines that activate, retry, renew and fail over.</summary>
public sealed class LoadFleetTests
{
    private static readonly Guid Windows = ProductCatalog.Default.FindApplication("windows")!.Id;

    [Fact]
    public async Task A_boot_storm_ends_with_every_machine_activated_once_the_count_reaches_the_threshold()
    {
        // 30 Windows 11 Pro machines, threshold 25: the first 24 are refused at first and activate on their retry,
        // one activation interval (120 simulated minutes = 0.1 s at this scale) later.
        await using var host = LoadFakeHost.Start();

        var (exit, report, stdout, stderr) = await RunJsonAsync("--server", host.Address.ToString(), "--fleet", "--boot-storm",
            "--clients", "30", "--product", "windows-11-pro", "--time-scale", "72000", "--duration", "1.5s",
            "--connections", "2", "--pipeline", "4");

        Assert.True(exit == 0, stderr);
        Assert.Equal("fleet", report.GetProperty("mode").GetString());
        var fleet = report.GetProperty("fleet");
        Assert.Equal(["machines", "activatedMachines", "notActivatedMachines", "failovers"], fleet.EnumerateObject().Select(p => p.Name));
        Assert.Equal(30, fleet.Long("machines"));
        Assert.Equal(30, fleet.Long("activatedMachines"));
        Assert.Equal(0, fleet.Long("notActivatedMachines"));
        Assert.Equal(30, host.Count(Windows));
        // Every machine asked; at least the 24 that were below the threshold asked again.
        Assert.Equal(30, host.RequestsByCmid.Count);
        Assert.True(host.RequestsByCmid.Values.Count(n => n >= 2) >= 24, string.Join(",", host.RequestsByCmid.Values));
        Assert.True(report.Long("notActivated") >= 24);
        Assert.True(report.Long("activated") >= 30);
        Assert.Contains("30 activated, 0 not activated", stdout);
    }

    [Fact]
    public async Task Machines_below_the_threshold_retry_on_the_activation_interval_and_end_not_activated()
    {
        await using var host = LoadFakeHost.Start();

        var (exit, report, _, stderr) = await RunJsonAsync("--server", host.Address.ToString(), "--fleet", "--boot-storm",
            "--clients", "10", "--product", "windows-11-enterprise", "--time-scale", "72000", "--duration", "1.5s");

        Assert.True(exit == 0, stderr);
        var fleet = report.GetProperty("fleet");
        Assert.Equal(0, fleet.Long("activatedMachines"));
        Assert.Equal(10, fleet.Long("notActivatedMachines"));
        Assert.Equal(10, host.RequestsByCmid.Count);
        // Retries every 0.1 s for 1.5 s: several per machine, none activated.
        Assert.All(host.RequestsByCmid.Values, n => Assert.True(n >= 3, $"{n} requests"));
        Assert.Equal(0, report.Long("activated"));
    }

    [Fact]
    public async Task Activated_machines_renew_on_the_renewal_interval_the_host_sends()
    {
        // Office threshold 5 with 5 machines: the boot storm activates the fifth, the other four on their retry one
        // activation interval (2 h = 0.1 s at this scale) later; then all renew every 15 simulated minutes (12.5 ms).
        await using var host = new LoadFakeHost { RenewalIntervalMinutes = 15 };

        var (exit, report, _, stderr) = await RunJsonAsync("--server", host.Address.ToString(), "--fleet", "--boot-storm",
            "--clients", "5", "--product", "office-ltsc-2024-professional-plus", "--time-scale", "72000", "--duration", "1.5s");

        Assert.True(exit == 0, stderr);
        Assert.Equal(5, report.GetProperty("fleet").Long("activatedMachines"));
        // Far more requests than the two a machine needs to activate: the renewals.
        Assert.True(host.RequestsByCmid.Values.Min() >= 5, string.Join(",", host.RequestsByCmid.Values));
        Assert.True(report.Long("activated") >= 5 * 4, report.ToString());
    }

    [Fact]
    public async Task Without_a_boot_storm_first_requests_spread_over_the_first_activation_interval()
    {
        await using var host = LoadFakeHost.Start();

        // 120 simulated minutes = 4 s at this scale; the run lasts 1 s.
        var (exit, report, _, stderr) = await RunJsonAsync("--server", host.Address.ToString(), "--fleet",
            "--clients", "40", "--time-scale", "1800", "--duration", "1s");

        Assert.True(exit == 0, stderr);
        Assert.InRange(host.RequestsByCmid.Count, 1, 39);
        var fleet = report.GetProperty("fleet");
        Assert.Equal(40, fleet.Long("activatedMachines") + fleet.Long("notActivatedMachines"));
        // Machines that never asked cannot be activated.
        Assert.True(fleet.Long("activatedMachines") <= host.RequestsByCmid.Count);
    }

    [Fact]
    public async Task When_the_first_server_stops_the_fleet_fails_over_to_the_second()
    {
        // The first server answers 10 requests, then crashes (drops its connections, stops listening).
        await using var first = FakeKmsHost.Start("first", n => n <= 10 ? HostReply.Answer : HostReply.Crash);
        await using var second = FakeKmsHost.Start("second", HostReply.Answer);

        var (exit, report, _, stderr) = await RunJsonAsync("--server", first.Address.ToString(), "--server", second.Address.ToString(),
            "--fleet", "--boot-storm", "--clients", "20", "--connections", "1", "--pipeline", "4",
            "--time-scale", "72000", "--duration", "1s", "--timeout", "2s");

        Assert.True(exit == 0, stderr);
        Assert.True(second.RequestsReceived > 0, "the second server got nothing");
        var fleet = report.GetProperty("fleet");
        Assert.True(fleet.Long("failovers") >= 1, report.ToString());
        // Every machine got an answer from one of them in the end (the fake never activates: count 1/5).
        Assert.Equal(20, fleet.Long("notActivatedMachines"));
        Assert.True(report.Long("answers") >= 20);
    }

    [Fact]
    public async Task A_fleet_with_nothing_due_until_after_the_end_still_runs_for_its_duration()
    {
        // Five Office machines activate in the boot storm and would renew in 7 days (real time): nothing more is due.
        await using var host = LoadFakeHost.Start();

        var (exit, report, _, stderr) = await RunJsonAsync("--server", host.Address.ToString(), "--fleet", "--boot-storm",
            "--clients", "5", "--product", "office-ltsc-2024-professional-plus", "--duration", "1200ms");

        Assert.True(exit == 0, stderr);
        Assert.True(report.Double("durationSeconds") >= 1.1, report.ToString());
        Assert.Equal(5, host.RequestsReceived);
        Assert.Equal(1, report.GetProperty("fleet").Long("activatedMachines"));
        Assert.Equal(4, report.GetProperty("fleet").Long("notActivatedMachines"));
    }
}
