using System.Text.Json;
using KmsCluster.Cli;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Wire;
using static KmsCluster.Client.Tests.TestRequests;

using KmsCluster.Client.Tests;

namespace KmsCluster.Cli.Tests;

/// <summary>The kms command line run in-process against fake hosts and a fake admin API.</summary>
public sealed class CliTests
{
    /// <summary>The token the admin commands send to the fake admin API (which does not check it).</summary>
    internal const string TestToken = "test-admin-token-0123";

    private const string ClusterSystem = "akka.tcp://kms-1a2b3c4d5e6f@127.0.0.1";

    private static readonly ClusterJson Cluster = new(
        Self: $"{ClusterSystem}:4053", SelfStatus: "Up", Leader: $"{ClusterSystem}:4053", Oldest: $"{ClusterSystem}:4053",
        Journal: "postgresql", SplitBrain: "keep-majority",
        Members:
        [
            new($"{ClusterSystem}:4053", "Up", ["kms"], Reachable: true, Oldest: true, Self: true),
            new($"{ClusterSystem}:4054", "Up", ["kms"], Reachable: true, Oldest: false, Self: false),
            new($"{ClusterSystem}:4055", "Leaving", ["kms"], Reachable: false, Oldest: false, Self: false),
        ],
        Windows: [new("windows", $"{ClusterSystem}:4054"), new("office", null)]);

    internal static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await KmsCommandLine.RunAsync(args, stdout, stderr).WaitAsync(Patience);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Cluster_prints_members_window_owners_leader_and_strategy()
    {
        await using var admin = FakeAdminApi.Start(Cluster, AdminJson.Http.ClusterJson);

        var (exit, stdout, stderr) = await RunAsync("cluster", "--admin", admin.Address.ToString(), "--token", TestToken);

        Assert.True(exit == 0, stderr);
        Assert.Equal("GET /api/v1/cluster HTTP/1.1", Assert.Single(admin.Requests));
        var lines = stdout.Split('\n');
        var memberRows = lines.Where(l => l.TrimStart().StartsWith("akka.tcp://", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, memberRows.Length);
        var self = Assert.Single(memberRows, l => l.Contains("@127.0.0.1:4053", StringComparison.Ordinal));
        Assert.Contains("Up", self);
        Assert.Contains("kms", self);
        Assert.Contains("oldest, self", self);
        var leaving = Assert.Single(memberRows, l => l.Contains("@127.0.0.1:4055", StringComparison.Ordinal));
        Assert.Contains("Leaving", leaving);
        Assert.Contains("NO", leaving);
        Assert.DoesNotContain("self", leaving);
        var windows = Assert.Single(lines, l => l.TrimStart().StartsWith("windows ", StringComparison.Ordinal));
        Assert.Contains("@127.0.0.1:4054", windows);
        var office = Assert.Single(lines, l => l.TrimStart().StartsWith("office ", StringComparison.Ordinal));
        Assert.Contains("unavailable", office);
        Assert.Contains("leader: akka.tcp://kms-1a2b3c4d5e6f@127.0.0.1:4053", stdout);
        Assert.Contains("split-brain strategy: keep-majority", stdout);
        Assert.Contains("journal: postgresql", stdout);
    }

    [Fact]
    public async Task Cluster_json_passes_the_body_through()
    {
        await using var admin = FakeAdminApi.Start(Cluster, AdminJson.Http.ClusterJson);

        var (exit, stdout, stderr) = await RunAsync("cluster", "--admin", admin.Address.ToString(), "--token", TestToken, "--json");

        Assert.True(exit == 0, stderr);
        Assert.Equal(admin.Body, stdout.TrimEnd('\r', '\n'));
    }

    [Fact]
    public async Task Cluster_exits_3_when_the_admin_api_is_unreachable()
    {
        var nothing = FakeKmsHost.Unused();

        var (exit, stdout, stderr) = await RunAsync("cluster", "--admin", nothing.ToString(), "--token", TestToken);

        Assert.Equal(ExitCodes.Unreachable, exit);
        Assert.Empty(stdout);
        Assert.Contains("unreachable", stderr);
    }

    [Fact]
    public async Task Cluster_exits_2_with_the_nodes_error_text_on_an_http_error()
    {
        await using var admin = FakeAdminApi.Error(503, "Service Unavailable", "the node is still joining");

        var (exit, _, stderr) = await RunAsync("cluster", "--admin", admin.Address.ToString(), "--token", TestToken);

        Assert.Equal(ExitCodes.Refused, exit);
        Assert.Contains("503", stderr);
        Assert.Contains("the node is still joining", stderr);
    }

    [Fact]
    public async Task Cluster_exits_4_on_a_bad_admin_address()
    {
        var (exit, _, stderr) = await RunAsync("cluster", "--admin", "127.0.0.1:none", "--token", TestToken);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains("127.0.0.1:none", stderr);
    }

    [Fact]
    public async Task Activate_fails_over_to_the_next_server_and_reports_the_one_that_answered()
    {
        var down = FakeKmsHost.Unused();
        await using var up = FakeKmsHost.Start("up", HostReply.Answer);

        var (exit, stdout, stderr) = await RunAsync("activate", "--unsigned", "--server", down.ToString(), "--server", up.Address.ToString(),
            "--product", "windows-server-2025-standard", "--cmid", Guid.NewGuid().ToString(), "--json");

        Assert.True(exit == ExitCodes.NotActivated, $"exit {exit}: {stderr}");
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(up.Address.ToString(), json.GetProperty("server").GetString());
        Assert.Equal("up", json.GetProperty("host").GetString());
        Assert.Equal(1, up.RequestsReceived);
    }

    [Fact]
    public async Task Activate_text_output_names_the_server_that_answered()
    {
        await using var busy = FakeKmsHost.Start("busy", HostReply.Error(ErrorCode.ServerBusy, "too many"));
        await using var up = FakeKmsHost.Start("up", HostReply.Answer);

        var (exit, stdout, stderr) = await RunAsync("activate", "--unsigned", "--server", busy.Address.ToString(), "--server", up.Address.ToString(),
            "--product", "windows-server-2025-standard", "--cmid", Guid.NewGuid().ToString());

        Assert.True(exit == ExitCodes.NotActivated, $"exit {exit}: {stderr}");
        Assert.Contains($"not activated yet by up ({up.Address})", stdout);
    }

    [Fact]
    public async Task Activate_exits_2_with_the_code_when_a_retryable_error_is_all_there_is_at_the_deadline()
    {
        await using var busy = FakeKmsHost.Start("busy", HostReply.Error(ErrorCode.ServerBusy, "too many requests"));

        var (exit, _, stderr) = await RunAsync("activate", "--unsigned", "--server", busy.Address.ToString(), "--timeout", "1",
            "--product", "windows-11-pro", "--cmid", Guid.NewGuid().ToString());

        Assert.Equal(ExitCodes.Refused, exit);
        Assert.Contains($"{busy.Address} refused: server-busy (6): too many requests", stderr);
        Assert.True(busy.RequestsReceived >= 1);
    }

    [Fact]
    public async Task Activate_exits_2_at_once_on_a_non_retryable_error()
    {
        await using var refusing = FakeKmsHost.Start("refusing", HostReply.Error(ErrorCode.UnknownProduct, "no such product"));
        await using var other = FakeKmsHost.Start("other", HostReply.Answer);

        var (exit, stdout, stderr) = await RunAsync("activate", "--unsigned", "--server", refusing.Address.ToString(), "--server", other.Address.ToString(),
            "--product", "windows-11-pro", "--cmid", Guid.NewGuid().ToString(), "--json");

        Assert.Equal(ExitCodes.Refused, exit);
        Assert.Contains("unknown-product (3)", stderr);
        Assert.Equal(refusing.Address.ToString(), JsonDocument.Parse(stdout).RootElement.GetProperty("server").GetString());
        Assert.Equal(0, other.RequestsReceived);
    }

    [Fact]
    public async Task Activate_exits_3_when_no_server_can_be_reached()
    {
        var first = FakeKmsHost.Unused();
        var second = FakeKmsHost.Unused();

        var (exit, stdout, stderr) = await RunAsync("activate", "--unsigned", "--server", first.ToString(), "--server", second.ToString(),
            "--timeout", "1", "--product", "windows-11-pro", "--cmid", Guid.NewGuid().ToString());

        Assert.Equal(ExitCodes.Unreachable, exit);
        Assert.Empty(stdout);
        Assert.Contains("cannot connect", stderr);
        Assert.Contains(first.ToString(), stderr);
    }

    [Fact]
    public async Task Activate_needs_at_least_one_valid_server()
    {
        var missing = await RunAsync("activate", "--unsigned", "--product", "windows-11-pro");
        Assert.Equal(ExitCodes.Usage, missing.ExitCode);
        Assert.Contains("--server", missing.StdErr);

        var bad = await RunAsync("activate", "--unsigned", "--server", "127.0.0.1:1688", "--server", "[::1", "--product", "windows-11-pro",
            "--cmid", Guid.NewGuid().ToString());
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
        Assert.Contains("[::1", bad.StdErr);
    }

    [Fact]
    public async Task Help_lists_the_cluster_command()
    {
        var (exit, stdout, _) = await RunAsync("--help");

        Assert.Equal(0, exit);
        Assert.Contains("cluster", stdout);
        Assert.Contains("activate", stdout);
    }
}
