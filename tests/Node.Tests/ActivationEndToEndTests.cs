using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Admin;
using KmsCluster.Testing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Node.Tests;

/// <summary>The real node process, driven over TCP with the client library.</summary>
public sealed class ActivationEndToEndTests
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Thirty_clients_five_servers_and_office_are_counted_and_the_count_survives_a_restart()
    {
        using var data = new TempDirectory();
        var clients = Enumerable.Range(0, 30).Select(_ => Guid.NewGuid()).ToArray();
        var servers = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid()).ToArray();
        var office = Enumerable.Range(0, 5).Select(_ => Guid.NewGuid()).ToArray();

        await using (var node = await NodeProcess.StartAsync(data.Path))
        {
            await using var connection = await node.OpenConnectionAsync();
            for (var i = 0; i < clients.Length; i++)
            {
                var result = await connection.ActivateAsync(Requests.For("windows-11-enterprise", clients[i]), Answer);
                Assert.False(result.IsError, result.ToString());
                var response = result.Response;
                Assert.Equal(clients[i], response.ClientMachineId);
                Assert.Equal(i + 1, response.CurrentCount);
                Assert.Equal(25, response.Threshold);
                // The first 24 are refused, the 25th and later activated.
                Assert.Equal(i >= 24, response.Activated);
                Assert.Equal(120u, response.ActivationIntervalMinutes);
                Assert.Equal(10080u, response.RenewalIntervalMinutes);
                if (response.Activated)
                {
                    Assert.Equal(response.HostTime.AddDays(180), response.ValidUntil);
                }
                else
                {
                    Assert.Null(response.ValidUntil);
                }
            }

            // Servers share the Windows window: the count is already far past their threshold of 5.
            for (var i = 0; i < servers.Length; i++)
            {
                var response = (await connection.ActivateAsync(Requests.For("windows-server-2025-datacenter", servers[i]), Answer)).Response;
                Assert.Equal(31 + i, response.CurrentCount);
                Assert.Equal(5, response.Threshold);
                Assert.True(response.Activated);
            }

            // Office has a window of its own: the first 4 are refused, the 5th activated.
            for (var i = 0; i < office.Length; i++)
            {
                var response = (await connection.ActivateAsync(Requests.For("office-ltsc-2024-professional-plus", office[i]), Answer)).Response;
                Assert.Equal(i + 1, response.CurrentCount);
                Assert.Equal(i == 4, response.Activated);
            }

            using var admin = new AdminClient(node);
            var windows = await admin.WindowAsync("windows");
            Assert.Equal(35, windows.Count);
            Assert.Equal(50, windows.Capacity);
            Assert.Equal(0, await node.StopGracefullyAsync());
        }

        await using (var restarted = await NodeProcess.StartAsync(data.Path))
        {
            using var admin = new AdminClient(restarted);
            var windows = await admin.WindowAsync("windows");
            Assert.Equal(35, windows.Count);
            var stored = windows.Contacts.Select(c => c.Cmid).ToHashSet();
            Assert.Equal(clients.Concat(servers).ToHashSet(), stored);
            Assert.Equal(5, (await admin.WindowAsync("office")).Count);

            // The next machine continues from the recovered count; a known machine is not counted twice.
            await using var connection = await restarted.OpenConnectionAsync();
            Assert.Equal(36, (await connection.ActivateAsync(Requests.For("windows-10-pro"), Answer)).Response.CurrentCount);
            Assert.Equal(36, (await connection.ActivateAsync(Requests.For("windows-10-pro", clients[0]), Answer)).Response.CurrentCount);
        }
    }

    [Fact]
    public async Task Many_pipelined_requests_on_one_connection_are_each_answered_for_their_own_machine()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path);
        await using var connection = await node.OpenConnectionAsync();

        // More requests in flight than the node lets one connection hold (256): the node must push back,
        // not drop or mix up answers.
        var machines = Enumerable.Range(0, 2000).Select(_ => Guid.NewGuid()).ToArray();
        var answers = await Task.WhenAll(machines.Select(cmid =>
            connection.ActivateAsync(Requests.For("windows-11-pro", cmid), TimeSpan.FromSeconds(60))));

        Assert.All(answers, a => Assert.False(a.IsError, a.ToString()));
        Assert.Equal(machines, answers.Select(a => a.Response.ClientMachineId));
        // Each new machine raises the count by one until the window holds its 50: the counts are exactly
        // 1..50 followed by 50s, whatever order the batches took.
        var counts = answers.Select(a => (int)a.Response.CurrentCount).Order().ToArray();
        Assert.Equal(Enumerable.Range(1, 50).Concat(Enumerable.Repeat(50, machines.Length - 50)), counts);
        Assert.Equal(machines.Length - 24, answers.Count(a => a.Response.Activated));

        using var admin = new AdminClient(node);
        var stats = await admin.StatsAsync();
        Assert.Equal(machines.Length, stats.Total);
        Assert.Equal(machines.Length - 24, stats.Activated);
        Assert.Equal(24, stats.NotActivated);
        Assert.Equal(0, stats.Failed);
        // Once the window is full its grant answers at once and the contacts follow within a flush interval:
        // every one of them reaches the journal.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var window = await admin.WindowAsync("windows");
        while (window.Requests < machines.Length && !patience.IsCancellationRequested)
        {
            await Task.Delay(50);
            window = await admin.WindowAsync("windows");
        }
        Assert.Equal(50, window.Contacts.Count);
        Assert.Equal(machines.Length, window.Requests);
    }

    [Fact]
    public async Task A_cloned_machine_id_counts_once_and_the_window_shows_both_names()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--log-level", "Debug");
        await using var connection = await node.OpenConnectionAsync();
        var cloned = Guid.NewGuid();

        var first = await connection.ActivateAsync(Requests.For("office-2019-professional-plus", cloned, "LAB-PC-01"), Answer);
        var second = await connection.ActivateAsync(Requests.For("office-2019-professional-plus", cloned, "LAB-PC-02"), Answer);

        Assert.Equal(1, first.Response.CurrentCount);
        Assert.Equal(1, second.Response.CurrentCount);
        using var admin = new AdminClient(node);
        var contact = Assert.Single((await admin.WindowAsync("office")).Contacts);
        Assert.Equal("LAB-PC-02", contact.Workstation);
        Assert.Equal("LAB-PC-01", contact.OtherWorkstation);
        Assert.Equal("office-2019-professional-plus", contact.Product);
        // One log line per activation at Debug, naming the machine.
        Assert.True(await node.WaitForOutputAsync($"Activation request {cloned} from LAB-PC-02", TimeSpan.FromSeconds(10)), node.Output);
    }

    [Fact]
    public async Task The_admin_api_reports_health_windows_and_unknown_applications()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--name", "kms-test-host",
            "--activation-interval", "2h", "--renewal-interval", "3d");
        using var admin = new AdminClient(node);

        var health = await admin.HealthAsync();
        Assert.Equal("ok", health.Status);
        Assert.Equal("kms-test-host", health.Node);

        var windows = await admin.WindowsAsync();
        Assert.Equal(["windows", "office"], windows.Select(w => w.Application));

        var (status, body) = await admin.SendAsync(HttpMethod.Get, "/api/v1/windows/solitaire", AdminJson.Http.ErrorJson);
        Assert.Equal(404, status);
        Assert.Contains("unknown application", body.Error);

        await using var connection = await node.OpenConnectionAsync();
        var response = (await connection.ActivateAsync(Requests.For("windows-7-enterprise"), Answer)).Response;
        Assert.Equal("kms-test-host", response.HostName);
        Assert.Equal(120u, response.ActivationIntervalMinutes);
        Assert.Equal(3u * 24 * 60, response.RenewalIntervalMinutes);
        Assert.Equal(health.HostId, response.HostId);
    }

    [Fact]
    public async Task One_node_answers_on_every_listen_endpoint_ipv4_and_ipv6()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--listen", "[::1]:0");
        Assert.Equal(2, node.ActivationEndpoints.Count);
        var v6 = node.ActivationEndpoints[1];
        Assert.StartsWith("[::1]:", v6);

        await using var overV4 = await node.OpenConnectionAsync();
        await using var overV6 = await KmsConnection.ConnectAsync("::1", int.Parse(v6[(v6.LastIndexOf(':') + 1)..]), TimeSpan.FromSeconds(10));
        var first = await overV4.ActivateAsync(Requests.For("office-2016-professional-plus"), Answer);
        var second = await overV6.ActivateAsync(Requests.For("office-2016-professional-plus"), Answer);

        // Both endpoints feed the same window.
        Assert.Equal(1, first.Response.CurrentCount);
        Assert.Equal(2, second.Response.CurrentCount);
    }

    [Fact]
    public async Task Localhost_listens_on_both_loopbacks_and_star_on_one_dual_stack_socket()
    {
        using var data = new TempDirectory();
        var (local, any) = (FreePorts.Next(), FreePorts.Next());
        await using var node = await NodeProcess.StartAsync(data.Path, "--listen", $"localhost:{local}", "--listen", $"*:{any}");
        Assert.Equal([$"127.0.0.1:{local}", $"[::1]:{local}", $"[::]:{any}"], node.ActivationEndpoints.Skip(1));

        // Every address of both answers, and all of them feed the one window.
        var count = 0;
        foreach (var (host, port) in new[] { ("127.0.0.1", local), ("::1", local), ("127.0.0.1", any), ("::1", any) })
        {
            await using var connection = await KmsConnection.ConnectAsync(host, port, TimeSpan.FromSeconds(10));
            var answer = await connection.ActivateAsync(Requests.For("office-2016-professional-plus"), Answer);
            Assert.Equal(++count, answer.Response.CurrentCount);
        }
    }
}
