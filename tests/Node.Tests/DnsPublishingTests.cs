using System.Net;
using System.Text.Json;
using KmsCluster.Client.Connection;
using KmsCluster.Client.Discovery;
using KmsCluster.Protocol.Admin;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>One private BIND named for the DNS tests, each test in a zone of its own.</summary>
public sealed class BindFixture : IAsyncLifetime
{
    public const string PublishZone = "publish.kms.test";
    public const string FailoverZone = "failover.kms.test";
    public const string BadKeyZone = "badkey.kms.test";
    public const string RediscoverZone = "rediscover.kms.test";
    public const string FleetZone = "fleet.kms.test";

    public BindServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await BindServer.StartAsync(PublishZone, FailoverZone, BadKeyZone, RediscoverZone, FleetZone);

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
    }
}

/// <summary>
/// Real kms-node processes publish themselves in a real BIND 9 by TSIG-signed dynamic update; the real kms CLI
/// discovers them and fails over. Generous timeouts with polling; nothing here measures speed.
/// </summary>
public sealed class DnsPublishingTests(BindFixture bind) : IClassFixture<BindFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private string[] Publish(string zone, string name, int priority, int weight, string? keyFile = null) =>
    [
        "--dns-publish", "--dns-server", bind.Server.Endpoint, "--dns-zone", zone, "--dns-name", name,
        "--dns-priority", priority.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--dns-weight", weight.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--dns-ttl", "60", "--dns-address", "127.0.0.1", "--dns-tsig-file", keyFile ?? bind.Server.KeyFile,
    ];

    private static async Task<DnsStatusJson> DnsStatusAsync(NodeProcess node)
    {
        using var admin = new AdminClient(node);
        return await admin.DnsAsync();
    }

    private static async Task<DnsStatusJson> WaitForDnsAsync(NodeProcess node, Func<DnsStatusJson, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        DnsStatusJson status;
        do
        {
            status = await DnsStatusAsync(node);
            if (condition(status)) return status;
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"{what} did not happen within {Patience.TotalSeconds:0} s; DNS status: " +
                    $"{JsonSerializer.Serialize(status, AdminJson.Http.DnsStatusJson)}\n{node.Output}");
        return status;
    }

    private static bool Published(DnsStatusJson status) => status.State == "published";

    private async Task<JsonElement[]> DiscoverAsync(string zone, int expected)
    {
        var deadline = DateTime.UtcNow + Patience;
        (int ExitCode, string StdOut, string StdErr) run;
        do
        {
            run = await KmsCli.RunAsync("discover", zone, "--dns-server", bind.Server.Endpoint, "--json");
            if (run.ExitCode is 0 or 3)
            {
                var hosts = JsonDocument.Parse(run.StdOut).RootElement.GetProperty("hosts").EnumerateArray().Select(h => h.Clone()).ToArray();
                if (hosts.Length == expected) return hosts;
            }
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"kms discover {zone} did not find {expected} hosts: exit {run.ExitCode}\n{run.StdOut}\n{run.StdErr}\n--- named ---\n{bind.Server.Log}");
        return [];
    }

    private static JsonElement HostOn(JsonElement[] hosts, NodeProcess node) =>
        Assert.Single(hosts, h => h.GetProperty("port").GetInt32() == node.ActivationPort);

    [Fact]
    public async Task Two_nodes_publish_discover_sees_both_with_priority_and_weight_and_a_graceful_stop_removes_one()
    {
        using var data1 = new TempDirectory();
        using var data2 = new TempDirectory();
        await using var node1 = await NodeProcess.StartAsync(data1.Path, Publish(BindFixture.PublishZone, "node1", 10, 60));
        await using var node2 = await NodeProcess.StartAsync(data2.Path, Publish(BindFixture.PublishZone, "node2", 20, 40));

        var status1 = await WaitForDnsAsync(node1, Published, "node1's publishing");
        Assert.Equal($"_vlmcs._tcp.{BindFixture.PublishZone}. 60 IN SRV 10 60 {node1.ActivationPort} node1.{BindFixture.PublishZone}.",
            status1.Record);
        Assert.Equal(BindServer.KeyName, status1.TsigKey);
        await WaitForDnsAsync(node2, Published, "node2's publishing");
        Assert.Contains("DNS publishing succeeded", node1.Output, StringComparison.Ordinal);

        var hosts = await DiscoverAsync(BindFixture.PublishZone, expected: 2);
        var first = HostOn(hosts, node1);
        Assert.Equal((10, 60, $"node1.{BindFixture.PublishZone}"),
            (first.GetProperty("priority").GetInt32(), first.GetProperty("weight").GetInt32(), first.GetProperty("target").GetString()));
        Assert.Equal(["127.0.0.1"], first.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));
        var second = HostOn(hosts, node2);
        Assert.Equal((20, 40), (second.GetProperty("priority").GetInt32(), second.GetProperty("weight").GetInt32()));

        var text = await KmsCli.RunAsync("discover", BindFixture.PublishZone, "--dns-server", bind.Server.Endpoint);
        Assert.True(text.ExitCode == 0, text.StdErr);
        Assert.Contains($"2 hosts at _vlmcs._tcp.{BindFixture.PublishZone}", text.StdOut, StringComparison.Ordinal);
        Assert.Contains($"node1.{BindFixture.PublishZone}", text.StdOut, StringComparison.Ordinal);

        // /healthz and the host report carry the same state.
        using (var admin = new AdminClient(node1))
        {
            Assert.Equal("published", (await admin.HealthAsync()).Dns?.State);
            Assert.Equal(node1.ActivationPort, (await admin.HostAsync()).Dns.Port);
        }

        Assert.Equal(0, await node1.StopGracefullyAsync());
        Assert.Contains("DNS record removed", node1.Output, StringComparison.Ordinal);
        // The record went before the process exited: no polling needed.
        var left = await bind.Server.SrvHostsAsync(BindFixture.PublishZone);
        Assert.Equal(node2.ActivationPort, Assert.Single(left).Port);
        Assert.Single(await DiscoverAsync(BindFixture.PublishZone, expected: 1));
    }

    [Fact]
    public async Task A_killed_node_keeps_its_record_but_a_discovering_client_activates_through_the_other()
    {
        using var data1 = new TempDirectory();
        using var data2 = new TempDirectory();
        // node1 has the better priority: a client tries it first.
        await using var node1 = await NodeProcess.StartAsync(data1.Path, Publish(BindFixture.FailoverZone, "node1", 0, 100));
        await using var node2 = await NodeProcess.StartAsync(data2.Path, Publish(BindFixture.FailoverZone, "node2", 10, 100));
        await WaitForDnsAsync(node1, Published, "node1's publishing");
        await WaitForDnsAsync(node2, Published, "node2's publishing");
        await DiscoverAsync(BindFixture.FailoverZone, expected: 2);

        var before = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey, "--discover", BindFixture.FailoverZone, "--dns-server", bind.Server.Endpoint,
            "--product", "windows-server-2025-standard", "--cmid", Guid.NewGuid().ToString(), "--json");
        Assert.True(before.ExitCode is 0 or 1, $"exit {before.ExitCode}: {before.StdErr}");
        Assert.Equal($"127.0.0.1:{node1.ActivationPort}", JsonDocument.Parse(before.StdOut).RootElement.GetProperty("server").GetString());

        node1.Kill();
        await node1.WaitForExitAsync();
        // kill -9 removes nothing: the dead host's record stays in DNS.
        Assert.Equal(2, (await bind.Server.SrvHostsAsync(BindFixture.FailoverZone)).Count);

        var after = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey, "--discover", BindFixture.FailoverZone, "--dns-server", bind.Server.Endpoint,
            "--product", "windows-server-2025-standard", "--cmid", Guid.NewGuid().ToString(), "--json", "--timeout", "30");
        Assert.True(after.ExitCode is 0 or 1, $"exit {after.ExitCode}: {after.StdErr}");
        var answer = JsonDocument.Parse(after.StdOut).RootElement;
        Assert.Equal($"127.0.0.1:{node2.ActivationPort}", answer.GetProperty("server").GetString());
        Assert.Equal(node2.Name, answer.GetProperty("host").GetString());
    }

    [Fact]
    public async Task A_discovering_client_looks_dns_up_again_when_its_hosts_fail_and_finds_a_new_one()
    {
        using var data1 = new TempDirectory();
        using var data2 = new TempDirectory();
        await using var node1 = await NodeProcess.StartAsync(data1.Path, Publish(BindFixture.RediscoverZone, "node1", 0, 0));
        await WaitForDnsAsync(node1, Published, "node1's publishing");
        var discovery = new SrvDiscovery(BindFixture.RediscoverZone, new IPEndPoint(IPAddress.Loopback, bind.Server.Port));
        await using var client = await KmsClient.DiscoverAsync(discovery, new KmsClientOptions { Deadline = TimeSpan.FromSeconds(60) });
        Assert.Equal([$"127.0.0.1:{node1.ActivationPort}"], client.Servers.Select(s => s.ToString()));
        var first = await client.RequestAsync(Requests.For("windows-server-2025-standard"));
        Assert.Equal(node1.ActivationPort, first.Server.Port);

        // A host the client has never seen publishes itself; the one it knows dies without removing its record.
        await using var node2 = await NodeProcess.StartAsync(data2.Path, Publish(BindFixture.RediscoverZone, "node2", 0, 0));
        await WaitForDnsAsync(node2, Published, "node2's publishing");
        node1.Kill();
        await node1.WaitForExitAsync();

        var second = await client.RequestAsync(Requests.For("windows-server-2025-standard"));
        Assert.Equal(node2.ActivationPort, second.Server.Port);
        Assert.False(second.Result.IsError && second.Result.Error.IsRetryable, second.Result.ToString());
        Assert.True(client.Rediscoveries >= 1);
        // The dead host is still published; it went to the end of the list.
        Assert.Equal($"127.0.0.1:{node1.ActivationPort}", client.Servers[^1].ToString());
        Assert.Equal(2, client.Servers.Count);
    }

    [Fact]
    public async Task A_discovering_load_fleet_looks_dns_up_again_when_its_host_dies_and_carries_on_with_a_new_one()
    {
        using var data1 = new TempDirectory();
        using var data2 = new TempDirectory();
        using var results = new TempDirectory();
        await using var node1 = await NodeProcess.StartAsync(data1.Path, Publish(BindFixture.FleetZone, "node1", 0, 0));
        await WaitForDnsAsync(node1, Published, "node1's publishing");

        // 200 machines, all asking at the start, then renewing every 6 s or so (7 days at 100,000 x); DNS names node1 only.
        var report = Path.Combine(results.Path, "fleet.json");
        var load = KmsCli.RunAsync("load", "--fleet", "--discover", BindFixture.FleetZone, "--dns-server", bind.Server.Endpoint,
            "--clients", "200", "--connections", "4", "--duration", "35s", "--time-scale", "100000", "--boot-storm",
            "--timeout", "2s", "--json", report);
        await WaitForRequestsAsync(node1, "the fleet's first requests at node1");

        // A host the fleet has never seen publishes itself; the one it knows dies without removing its record.
        await using var node2 = await NodeProcess.StartAsync(data2.Path, Publish(BindFixture.FleetZone, "node2", 0, 0));
        await WaitForDnsAsync(node2, Published, "node2's publishing");
        node1.Kill();
        await node1.WaitForExitAsync();
        await WaitForRequestsAsync(node2, "the fleet finding node2 in DNS");

        var run = await load;
        Assert.True(run.ExitCode == 0, $"kms load exited {run.ExitCode}\n{run.StdOut}\n{run.StdErr}");
        var answers = JsonDocument.Parse(await File.ReadAllTextAsync(report)).RootElement.GetProperty("answers").GetInt64();
        Assert.True(answers > 200, $"the fleet got {answers} answers");
    }

    private static async Task WaitForRequestsAsync(NodeProcess node, string what)
    {
        using var admin = new AdminClient(node);
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if ((await admin.StatsAsync()).Total > 0) return;
            await Task.Delay(200);
        }
        Assert.Fail($"{what} did not happen within {Patience.TotalSeconds:0} s\n{node.Output}");
    }

    [Fact]
    public async Task An_update_signed_with_a_wrong_key_is_refused_by_bind_reported_and_activations_go_on()
    {
        using var data = new TempDirectory();
        var wrongKey = Path.Combine(data.Path, "wrong.key");
        File.WriteAllText(wrongKey, BindServer.KeyFileText(BindServer.KeyName, BindServer.KeyAlgorithm,
            Convert.ToBase64String(new byte[32])));
        await using var node = await NodeProcess.StartAsync(Path.Combine(data.Path, "node"),
            Publish(BindFixture.BadKeyZone, "node1", 0, 0, wrongKey));

        var status = await WaitForDnsAsync(node, s => s.Failures >= 2, "two refused updates");
        Assert.Equal("failing", status.State);
        Assert.StartsWith("TSIG key refused (BADSIG/NOTAUTH)", status.LastError, StringComparison.Ordinal);
        Assert.True(status.NextAttempt is not null || status.Attempts > 2);
        Assert.Contains("DNS publishing failed", node.Output, StringComparison.Ordinal);
        Assert.Contains("BADSIG", bind.Server.Log, StringComparison.Ordinal);
        Assert.Empty(await bind.Server.SrvHostsAsync(BindFixture.BadKeyZone));

        using (var admin = new AdminClient(node))
        {
            var (code, health) = await admin.SendAsync(HttpMethod.Get, "/healthz", AdminJson.Http.HealthJson);
            Assert.Equal(200, code); // DNS trouble never makes the node unhealthy
            Assert.Equal("failing", health.Dns?.State);
        }
        var activation = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey, "--server", node.ActivationEndpoint, "--product", "windows-server-2025-standard",
            "--cmid", Guid.NewGuid().ToString());
        Assert.True(activation.ExitCode is 0 or 1, $"exit {activation.ExitCode}: {activation.StdErr}");
    }

    [Fact]
    public async Task A_dns_server_that_does_not_answer_makes_publishing_retry_without_blocking_activations()
    {
        using var silent = new SilentDnsServer();
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--dns-publish", "--dns-server", silent.Endpoint,
            "--dns-zone", "silent.kms.test", "--dns-name", "node1");

        // Activations are served while the first update still waits for its answer.
        var activation = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey, "--server", node.ActivationEndpoint, "--product", "windows-server-2025-standard",
            "--cmid", Guid.NewGuid().ToString());
        Assert.True(activation.ExitCode is 0 or 1, $"exit {activation.ExitCode}: {activation.StdErr}");

        var status = await WaitForDnsAsync(node, s => s.Attempts >= 3, "a third attempt");
        Assert.Equal("failing", status.State);
        Assert.StartsWith($"no answer from DNS server {silent.Endpoint} in 5 s", status.LastError, StringComparison.Ordinal);
        Assert.True(silent.Received >= 2, $"the silent server saw {silent.Received} messages");

        var again = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey, "--server", node.ActivationEndpoint, "--product", "windows-server-2025-standard",
            "--cmid", Guid.NewGuid().ToString());
        Assert.True(again.ExitCode is 0 or 1, $"exit {again.ExitCode}: {again.StdErr}");
        // A graceful stop still ends in time: the removal gives up after its own timeout.
        Assert.Equal(0, await node.StopGracefullyAsync());
        Assert.Contains("DNS record removal failed", node.Output, StringComparison.Ordinal);
    }
}
