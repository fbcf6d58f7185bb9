using System.Text.Json;
using System.Text.RegularExpressions;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary><c>kms status</c> (the kms process) against a real node: the one screen, its JSON, and a node that is not there.</summary>
public sealed class StatusCommandTests
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Status_shows_the_node_its_endpoints_windows_requests_and_keys_and_the_json_agrees()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--name", "kms-status-test");
        await using (var connection = await node.OpenConnectionAsync())
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.False((await connection.ActivateAsync(Requests.For("windows-11-pro"), Answer)).IsError);
            }
            var skewed = Requests.For("windows-11-pro", clientTime: DateTimeOffset.UtcNow.AddHours(-6));
            Assert.True((await connection.ActivateAsync(skewed, Answer)).IsError);
        }

        var (exit, stdout, stderr) = await KmsCli.RunAsync("status", "--admin", node.AdminEndpoint, "--data", data.Path);
        Assert.True(exit == 0, $"exit {exit}: {stdout}\n{stderr}");
        var lines = stdout.Split('\n').Select(l => l.TrimEnd()).ToArray();
        Assert.Contains($"Name:                 kms-status-test ({node.HostId})", lines);
        Assert.Contains($"Activation endpoints: {node.ActivationEndpoint}", lines);
        Assert.Contains($"Admin endpoint:       {node.AdminEndpoint}", lines);
        Assert.Contains("Activation interval:  120 minutes", lines);
        Assert.Contains("Renewal interval:     10080 minutes", lines);
        Assert.Contains("Total:                4", lines);
        Assert.Contains("Failed:               1", lines);
        Assert.Contains("Not activated:        3", lines);
        Assert.Contains(lines, l => Regex.IsMatch(l, @"^  windows: count 3 \(keeps \d+\); windows-client 3/25 below threshold, windows-server 3/5 below threshold"));
        Assert.Contains(lines, l => l.Contains(DemoLicence.WindowsKeyId) && l.Contains("active"));
        Assert.Contains(lines, l => l.Contains(DemoLicence.OfficeKeyId));
        Assert.Contains("Publishing:           off", lines);
        Assert.Contains(lines, l => l.Contains(node.ClusterAddress!) && l.Contains("Up") && l.Contains("self"));
        Assert.DoesNotContain("NOT FETCHED", stdout);

        var json = await KmsCli.RunAsync("status", "--admin", node.AdminEndpoint, "--data", data.Path, "--json");
        Assert.Equal(0, json.ExitCode);
        var status = JsonDocument.Parse(json.StdOut).RootElement;
        Assert.Equal("kms-status-test", status.GetProperty("node").GetProperty("node").GetString());
        Assert.Equal(node.ActivationEndpoint, status.GetProperty("node").GetProperty("activationEndpoints")[0].GetString());
        Assert.Equal(120, status.GetProperty("node").GetProperty("activationIntervalMinutes").GetInt32());
        Assert.Equal(4, status.GetProperty("stats").GetProperty("total").GetInt64());
        Assert.Equal(1, status.GetProperty("stats").GetProperty("failed").GetInt64());
        var windows = status.GetProperty("windows").EnumerateArray().ToDictionary(w => w.GetProperty("application").GetString()!);
        Assert.Equal(["windows", "office"], windows.Keys);
        Assert.Equal(3, windows["windows"].GetProperty("window").GetProperty("count").GetInt32());
        Assert.Equal(0, windows["office"].GetProperty("window").GetProperty("count").GetInt32());
        Assert.Contains(DemoLicence.WindowsKeyId, status.GetProperty("host").GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("keyId").GetString()));
        Assert.Equal(JsonValueKind.Array, status.GetProperty("cluster").GetProperty("members").ValueKind);
        Assert.Empty(status.GetProperty("unavailable").EnumerateArray());
    }

    [Fact]
    public async Task A_closed_admin_port_is_one_line_and_exit_code_3()
    {
        var (exit, stdout, stderr) = await KmsCli.RunAsync("status", "--admin", "127.0.0.1:1", "--token", "0123456789abcdef0123", "--timeout", "5");
        Assert.Equal(3, exit);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kms: admin API unreachable: 127.0.0.1:1: unreachable:", line);
    }
}
