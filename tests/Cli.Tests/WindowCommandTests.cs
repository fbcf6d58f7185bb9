using System.Text.RegularExpressions;
using KmsCluster.Cli;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Cli.Tests;

/// <summary><c>kms window</c> in-process against a fake admin API that answers with the node's records.</summary>
public sealed class WindowCommandTests
{
    private static readonly WindowJson Office = new(
        "office", Guid.Parse("6b2f1a3c-5d4e-4f60-8a71-92b3c4d5e6f7"), "Office", Count: 2, Capacity: 10, HighestThreshold: 5,
        [new ThresholdJson("office", 5, Reached: false)], Requests: 3, Activated: 0, NotActivated: 3,
        LastContact: DateTimeOffset.Parse("2025-06-03T08:30:00Z"), Owner: "akka.tcp://kms-1a2b@10.0.0.2:4053",
        AsOf: DateTimeOffset.Parse("2025-06-03T08:30:01Z"),
        [
            new(Guid.Parse("0c8a3d5e-2b7f-4e61-9a04-5d3b1f6e7a28"), "office-2019-standard", "Office Standard 2019",
                "LAB-PC-02", OtherWorkstation: "LAB-PC-01", VirtualMachine: true, DateTimeOffset.Parse("2025-06-03T08:30:00Z")),
            new(Guid.Parse("1d9b4e6f-3c80-4f72-8b15-6e4c2a7f8b39"), "office-2019-standard", "Office Standard 2019",
                "LAB-PC-03", OtherWorkstation: null, VirtualMachine: false, DateTimeOffset.Parse("2025-06-02T12:00:00Z")),
        ]);

    [Fact]
    public async Task Window_prints_the_count_thresholds_and_contacts()
    {
        await using var admin = FakeAdminApi.Start(Office, AdminJson.Http.WindowJson);

        var (exit, stdout, stderr) = await CliTests.RunAsync("window", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken, "--application", "office");

        Assert.True(exit == 0, stderr);
        Assert.Equal("GET /api/v1/windows/office HTTP/1.1", Assert.Single(admin.Requests));
        var lines = stdout.Split('\n').Select(l => l.TrimEnd()).ToArray();
        Assert.Equal(["Office: count 2 (keeps 10), thresholds office 5 (not reached)",
            "  requests 3, activated 0, not activated 3; owner akka.tcp://kms-1a2b@10.0.0.2:4053"], lines[..2]);
        // One row per contact, in the table's column order: CMID, product, workstation, VM, last contact.
        Assert.Single(lines, l => Regex.IsMatch(l, @"0c8a3d5e-2b7f-4e61-9a04-5d3b1f6e7a28 +office-2019-standard +" +
                                                  @"LAB-PC-02 \(also seen as LAB-PC-01: cloned CMID\?\) +yes +2025-06-03 08:30:00"));
        Assert.Single(lines, l => Regex.IsMatch(l, @"1d9b4e6f-3c80-4f72-8b15-6e4c2a7f8b39 +office-2019-standard +LAB-PC-03 +no +2025-06-02 12:00:00"));
    }

    [Fact]
    public async Task A_full_window_says_that_this_node_answers_from_its_grant()
    {
        var full = Office with
        {
            Count = 10,
            Grant = new GrantJson(412, 10, 5, DateTimeOffset.Parse("2025-06-03T08:30:00Z"),
                DateTimeOffset.Parse("2025-07-01T12:00:00Z"), 30),
        };
        await using var admin = FakeAdminApi.Start(full, AdminJson.Http.WindowJson);

        var (exit, stdout, stderr) = await CliTests.RunAsync("window", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken, "--application", "office");

        Assert.True(exit == 0, stderr);
        Assert.Equal("  full: this node answers editions up to threshold 5 with count 10 from its grant (epoch 412, full until 2025-07-01 12:00:00 UTC)",
            stdout.Split('\n').Select(l => l.TrimEnd()).ToArray()[2]);
    }

    [Fact]
    public async Task Every_window_without_an_application()
    {
        var windows = new WindowsJson([Office with { Application = "windows", Name = "Windows", Contacts = [] }, Office], []);
        await using var admin = FakeAdminApi.Start(windows, AdminJson.Http.WindowsJson);

        var (exit, stdout, stderr) = await CliTests.RunAsync("window", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken);

        Assert.True(exit == 0, stderr);
        Assert.Equal("GET /api/v1/windows HTTP/1.1", Assert.Single(admin.Requests));
        Assert.Contains("Windows: count 2", stdout);
        Assert.Contains("no contacts in the last 30 days", stdout);
        Assert.Contains("Office: count 2", stdout);
    }

    [Fact]
    public async Task A_window_the_node_could_not_reach_is_named_and_the_others_shown_with_exit_5()
    {
        var windows = new WindowsJson([Office], [new UnreachableWindowJson("windows", "window unavailable, retry later: Ask timed out")]);
        await using var admin = FakeAdminApi.Start(windows, AdminJson.Http.WindowsJson);

        var (exit, stdout, stderr) = await CliTests.RunAsync("window", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken);

        Assert.True(exit == ExitCodes.Partial, stderr);
        Assert.Contains("Office: count 2", stdout);
        Assert.Contains("windows: NOT FETCHED: window unavailable, retry later: Ask timed out", stdout);

        (exit, stdout, _) = await CliTests.RunAsync("window", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken, "--json");
        Assert.Equal(ExitCodes.Partial, exit);
        Assert.Equal("windows", Assert.Single(System.Text.Json.JsonSerializer.Deserialize(stdout, AdminJson.Http.WindowsJson)!.Unreachable).Application);
    }

    [Fact]
    public async Task An_application_the_node_does_not_know_is_a_usage_error_with_the_nodes_text()
    {
        await using var admin = FakeAdminApi.Error(404, "Not Found", "unknown application \"solitaire\"; known: windows, office");

        var (exit, _, stderr) = await CliTests.RunAsync("window", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken, "--application", "solitaire");

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("404 unknown application \"solitaire\"; known: windows, office", stderr);
    }
}
