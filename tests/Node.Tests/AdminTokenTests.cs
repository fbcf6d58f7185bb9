using System.Net;
using KmsCluster.Protocol.Admin;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>The admin API's bearer token: what needs it, where the node keeps it, and <c>kms</c> with and without it.</summary>
public sealed class AdminTokenTests
{
    [Fact]
    public async Task Reads_and_the_reactivation_need_the_token_and_only_the_bare_probes_are_open()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path);
        var token = node.AdminToken!;
        using var none = new AdminClient(node.AdminUri, null);
        using var wrong = new AdminClient(node.AdminUri, "not-the-token-" + token[..8]);
        using var right = new AdminClient(node);
        var reactivate = $"/api/v1/host-keys/{DemoLicence.WindowsKeyId}/reactivate";

        foreach (var client in new[] { none, wrong })
        {
            foreach (var (method, path) in new[] { (HttpMethod.Get, "/api/v1/stats"), (HttpMethod.Post, reactivate),
                         (HttpMethod.Get, "/healthz"), (HttpMethod.Get, "/no/such/path") })
            {
                var (status, body) = await client.SendAsync(method, path, AdminJson.Http.ErrorJson);
                Assert.Equal((401, path), (status, path));
                Assert.StartsWith("this admin API needs Authorization: Bearer <token>", body.Error);
                Assert.DoesNotContain(token, body.Error);
            }
        }

        Assert.Equal(200, (await right.SendAsync(HttpMethod.Get, "/api/v1/stats", AdminJson.Http.StatsJson)).Status);
        var (reactivated, outcome) = await right.ReactivateAsync(DemoLicence.WindowsKeyId);
        Assert.Equal((200, "reactivated"), (reactivated, outcome.Outcome));

        // The orchestrators' probes answer without a token, and say nothing but their verdict.
        using var anonymous = new HttpClient { BaseAddress = node.AdminUri };
        foreach (var probe in AdminHostingProbes)
        {
            using var answer = await anonymous.GetAsync(probe);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal("Healthy", await answer.Content.ReadAsStringAsync());
        }
    }

    private static readonly string[] AdminHostingProbes = ["/healthz/live", "/healthz/ready"];

    [Fact]
    public async Task The_token_file_is_owner_only_and_survives_a_restart_and_kms_reads_it_from_the_data_directory()
    {
        using var data = new TempDirectory();
        string first;
        await using (var node = await NodeProcess.StartAsync(data.Path))
        {
            first = node.AdminToken!;
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(node.AdminTokenFile));
            }
            Assert.True(AdminAuth.IsWellFormed(first));
            Assert.Equal(0, await node.StopGracefullyAsync());
        }

        await using var restarted = await NodeProcess.StartAsync(data.Path);
        Assert.Equal(first, restarted.AdminToken);
        using (var admin = new AdminClient(restarted))
        {
            Assert.Equal("ok", (await admin.HealthAsync()).Status);
        }

        var window = await KmsCli.RunAsync("window", "--admin", restarted.AdminEndpoint, "--data", data.Path);
        Assert.True(window.ExitCode == 0, window.StdErr);
        Assert.Contains("count 0", window.StdOut);

        using var elsewhere = new TempDirectory();
        var noToken = await KmsCli.RunAsync("window", "--admin", restarted.AdminEndpoint, "--data", elsewhere.Path);
        Assert.Equal(4, noToken.ExitCode);
        Assert.StartsWith("kms: no admin token:", noToken.StdErr);

        var refused = await KmsCli.RunAsync("cluster", "--admin", restarted.AdminEndpoint, "--token", "a-token-it-does-not-have");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("401 the node refused the admin token from --token", refused.StdErr);
    }

    [Fact]
    public async Task An_admin_token_file_replaces_the_data_directorys_and_a_bad_one_stops_start_up()
    {
        using var data = new TempDirectory();
        var secret = Path.Combine(data.Path, "secret");
        await File.WriteAllTextAsync(secret, "operator-supplied-token-1234\n");
        await using (var node = await NodeProcess.StartAsync(Path.Combine(data.Path, "node"), "--admin-token-file", secret))
        {
            Assert.Equal("operator-supplied-token-1234", node.AdminToken);
            Assert.False(File.Exists(Path.Combine(node.DataDirectory, AdminAuth.TokenFile)));
            using var admin = new AdminClient(node);
            Assert.Equal("ok", (await admin.HealthAsync()).Status);
        }

        var empty = Path.Combine(data.Path, "empty");
        await File.WriteAllTextAsync(empty, "\n");
        foreach (var file in new[] { empty, Path.Combine(data.Path, "missing") })
        {
            var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null, "--data", Path.Combine(data.Path, "other"),
                "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--admin-token-file", file);
            Assert.Equal(2, exit);
            Assert.StartsWith($"kms-node: --admin-token-file: ", stderr);
            Assert.Single(stderr.Trim().Split('\n'));
        }
    }
}
