using System.Text.Json;

namespace KmsCluster.Cli.Tests;

/// <summary><c>kms status</c> in-process against a fake admin API: what it does when parts of a node do not answer.</summary>
public sealed class StatusCommandTests
{
    [Fact]
    public async Task Parts_that_answer_an_error_are_named_in_their_sections_and_the_exit_code_is_5()
    {
        await using var admin = FakeAdminApi.Error(503, "Service Unavailable", "window unavailable, retry later: owner down");

        var (exit, stdout, stderr) = await CliTests.RunAsync("status", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken);

        Assert.True(exit == ExitCodes.Partial, $"exit {exit}: {stdout}\n{stderr}");
        Assert.Equal(5, ExitCodes.Partial);
        // Every section is printed, each saying what failed; the first four asked at once, then the windows.
        foreach (var section in new[] { "Node", "Requests", "Windows", "Host keys", "Cluster" })
        {
            Assert.Contains(section, stdout.Split('\n').Select(l => l.TrimEnd()));
        }
        Assert.Equal(5, stdout.Split('\n').Count(l => l.Contains($"NOT FETCHED: {admin.Address}: 503 window unavailable, retry later: owner down")));
        Assert.Contains("5 part(s) could not be fetched (exit code 5).", stdout);
        Assert.Equal(["GET /api/v1/cluster HTTP/1.1", "GET /api/v1/host HTTP/1.1", "GET /api/v1/node HTTP/1.1",
            "GET /api/v1/stats HTTP/1.1", "GET /api/v1/windows HTTP/1.1"], admin.Requests.Order());

        var json = await CliTests.RunAsync("status", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken, "--json");
        Assert.Equal(ExitCodes.Partial, json.ExitCode);
        var report = JsonDocument.Parse(json.StdOut).RootElement;
        Assert.Equal(JsonValueKind.Null, report.GetProperty("node").ValueKind);
        Assert.Equal(["node", "stats", "host", "cluster", "windows"],
            report.GetProperty("unavailable").EnumerateArray().Select(p => p.GetProperty("part").GetString()));
    }

    [Fact]
    public async Task A_refused_token_is_one_line_and_exit_code_2()
    {
        await using var admin = FakeAdminApi.Error(401, "Unauthorized", "this admin API needs Authorization: Bearer <token>");
        var (exit, stdout, stderr) = await CliTests.RunAsync("status", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken);
        Assert.Equal(ExitCodes.Refused, exit);
        Assert.Equal("", stdout);
        Assert.Equal($"kms: {admin.Address}: 401 the node refused the admin token from --token", stderr.Trim());
    }
}
