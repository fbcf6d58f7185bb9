using KmsCluster.Protocol.Admin;
using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>
/// What an operator sees on a survivor while a member is down (issue 14): every document the dashboard and
/// <c>kms status</c> read answers, or says in a 503 which part it could not reach; never a 500, never a blank list.
/// </summary>
internal static class AdminDuringOutage
{
    /// <summary>The dashboard's documents (the page itself, and each panel's source).</summary>
    private static readonly string[] Parts =
    [
        "/dashboard", "/api/v1/node", "/api/v1/stats", "/api/v1/stats/history", "/api/v1/cluster", "/api/v1/windows",
        "/api/v1/windows/windows", "/api/v1/windows/office", "/api/v1/host-keys", "/api/v1/host/dns", "/api/v1/clients?limit=50",
    ];

    /// <summary>Asks <paramref name="survivor"/> for every part, from just after the member on <paramref name="downPort"/>
    /// (a window's owner) went down until the survivor's cluster view shows it unreachable or gone (failure detection
    /// about 2 s, downing 1.5 s later), then once more with <c>kms status</c>. At least once a window was named
    /// unreachable: the outage was seen, not slept through.</summary>
    public static async Task CheckAsync(NodeProcess survivor, int downPort, TimeSpan timeout)
    {
        using var admin = new AdminClient(survivor);
        using var http = new HttpClient { BaseAddress = new Uri("http://" + survivor.AdminEndpoint), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", survivor.AdminToken);
        var deadline = DateTime.UtcNow + timeout;
        var downAddress = $"@127.0.0.1:{downPort}";
        var sawMemberDown = false;
        var sawWindowUnreachable = false;
        while (!sawMemberDown)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the survivor never showed {downAddress} unreachable or gone");
            var answers = await Task.WhenAll(Parts.Select(async path =>
            {
                using var response = await http.GetAsync(path);
                return (path, Status: (int)response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            }));
            foreach (var (path, status, body) in answers)
            {
                // A window whose owner is down may answer 503 on its own path, saying so; nothing else may fail.
                var allowed = path.StartsWith("/api/v1/windows/", StringComparison.Ordinal) ? new[] { 200, 503 } : [200];
                Assert.True(allowed.Contains(status), $"{path}: {status} {body}");
                if (status == 503) Assert.Contains("window unavailable", body);
            }
            // The list names every application: answered, or unreachable with the reason.
            var windows = await admin.WindowListAsync();
            Assert.Equal(["office", "windows"],
                windows.Windows.Select(w => w.Application).Concat(windows.Unreachable.Select(u => u.Application)).Order());
            Assert.All(windows.Unreachable, u => Assert.Contains("window unavailable", u.Error));
            sawWindowUnreachable |= windows.Unreachable.Count > 0 || answers.Any(a => a.Status == 503);
            var cluster = await admin.ClusterAsync();
            sawMemberDown = cluster.Members.All(m => !m.Address.EndsWith(downAddress, StringComparison.Ordinal) || !m.Reachable);
            if (!sawMemberDown) await Task.Delay(200);
        }
        Assert.True(sawWindowUnreachable, "no window was ever unreachable: the outage was not seen");

        // kms status: every section shown; a window it could not fetch says NOT FETCHED with exit 5, else 0.
        var (exit, stdout, stderr) = await KmsCli.RunAsync("status", "--admin", survivor.AdminEndpoint, "--data", survivor.DataDirectory,
            "--timeout", "20");
        Assert.True(exit is 0 or 5, $"kms status exit {exit}: {stderr}");
        Assert.Equal(exit == 5, stdout.Contains("NOT FETCHED", StringComparison.Ordinal));
    }
}
