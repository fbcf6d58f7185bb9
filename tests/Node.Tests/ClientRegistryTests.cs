using KmsCluster.Protocol.Admin;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>The client registry on a real node (SQLite): machines answered appear with what they were told, the
/// filters, paging, clones, errors, retention and a restart.</summary>
public sealed class ClientRegistryTests
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Answered_machines_appear_with_their_answer_and_clones_are_shown_as_such()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path);
        await using var connection = await node.OpenConnectionAsync();
        var desktops = Enumerable.Range(0, 4).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var cmid in desktops)
        {
            Assert.False((await connection.ActivateAsync(Requests.For("windows-11-enterprise", cmid, "DESK-" + cmid.ToString("N")[..6]), Answer)).IsError);
        }
        // A clone: one CMID from two workstations.
        var cloned = desktops[0];
        Assert.False((await connection.ActivateAsync(Requests.For("windows-11-enterprise", cloned, "DESK-COPY"), Answer)).IsError);
        // Servers share the Windows window: the 5th machine reaches their threshold of 5 and is activated (a clone is
        // one machine to the window).
        var server = Guid.NewGuid();
        var answer = (await connection.ActivateAsync(Requests.For("windows-server-2025-datacenter", server, "SRV-01"), Answer)).Response;
        Assert.True(answer.Activated);
        var vm = Guid.NewGuid();
        Assert.False((await connection.ActivateAsync(Requests.For("office-ltsc-2024-professional-plus", vm, "VM-OFFICE") with { IsVirtualMachine = true }, Answer)).IsError);

        using var admin = new AdminClient(node);
        var all = await WaitForRowsAsync(admin, 7);
        var serverRow = Assert.Single(all, c => c.Cmid == server);
        Assert.Equal(("SRV-01", "windows", "windows-server-2025-datacenter", 5, true, answer.ValidUntil, node.Name, false),
            (serverRow.Workstation, serverRow.Application, serverRow.Product, serverRow.LastCount, serverRow.Activated,
                serverRow.ValidUntil, serverRow.Node, serverRow.Cloned));
        Assert.Equal(answer.HostTime, serverRow.LastContact);
        Assert.Equal(serverRow.LastContact, serverRow.FirstContact);
        var vmRow = Assert.Single(all, c => c.Cmid == vm);
        Assert.True(vmRow.VirtualMachine);
        Assert.False(vmRow.Activated);
        Assert.Null(vmRow.ValidUntil);
        Assert.Equal(2, all.Count(c => c.Cmid == cloned && c.Cloned));
        Assert.Equal(5, all.Count(c => !c.Cloned && c.Cmid != cloned));

        var machine = await admin.GetAsync($"/api/v1/clients/{cloned}", AdminJson.Http.ClientMachineJson);
        Assert.True(machine.Cloned);
        Assert.Equal(new[] { "DESK-" + cloned.ToString("N")[..6], "DESK-COPY" }.Order(), machine.Rows.Select(r => r.Workstation).Order());
        var single = await admin.GetAsync($"/api/v1/clients/{server}", AdminJson.Http.ClientMachineJson);
        Assert.False(single.Cloned);

        // Filters.
        Assert.Equal([vm], (await admin.ClientsAsync("product=office-ltsc-2024-professional-plus")).Clients.Select(c => c.Cmid));
        Assert.Equal([server], (await admin.ClientsAsync("activated=true")).Clients.Select(c => c.Cmid));
        Assert.Equal(6, (await admin.ClientsAsync("activated=false")).Clients.Count);
        Assert.Equal([server], (await admin.ClientsAsync("expiringWithin=200d")).Clients.Select(c => c.Cmid));
        Assert.Empty((await admin.ClientsAsync("expiringWithin=30d")).Clients);
        Assert.Empty((await admin.ClientsAsync("silentFor=1h")).Clients);
        Assert.Equal(["DESK-COPY"], (await admin.ClientsAsync("search=k-cop")).Clients.Select(c => c.Workstation));
        Assert.Equal([vm], (await admin.ClientsAsync("search=" + vm.ToString()[..13].ToUpperInvariant())).Clients.Select(c => c.Cmid));

        // Paging: pages of two cover every row once, newest first.
        var paged = new List<ClientJson>();
        string? after = null;
        do
        {
            var page = await admin.ClientsAsync("limit=2" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after)));
            Assert.InRange(page.Clients.Count, 1, 2);
            paged.AddRange(page.Clients);
            after = page.Next;
        } while (after is not null);
        Assert.Equal(all.Select(Key), paged.Select(Key));
        Assert.Equal(7, paged.Select(Key).Distinct().Count());
        Assert.Equal(paged.OrderByDescending(c => c.LastContact).Select(c => c.LastContact), paged.Select(c => c.LastContact));

        var stats = await admin.StatsAsync();
        Assert.True(stats.ClientRegistry!.Enabled);
        Assert.Equal(7, stats.ClientRegistry.Written);
        Assert.Equal(0, stats.ClientRegistry.Dropped);
        var metrics = await MetricsTests.ScrapeAsync(node);
        Assert.Equal((7, 0, 0), (metrics.Value("kms_client_registry_written_total"), metrics.Value("kms_client_registry_dropped_total"),
            metrics.Value("kms_client_registry_pending")));
    }

    [Fact]
    public async Task With_the_registry_off_answers_are_not_recorded_and_the_api_still_answers()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--client-registry", "off");
        await using var connection = await node.OpenConnectionAsync();
        Assert.False((await connection.ActivateAsync(Requests.For("windows-11-pro"), Answer)).IsError);
        using var admin = new AdminClient(node);
        // The feed decides before the answer is sent: with it on, the contact would be pending or written by now.
        var registry = (await admin.StatsAsync()).ClientRegistry!;
        Assert.Equal((false, 0L, 0L), (registry.Enabled, registry.Written, registry.Pending));
        Assert.Empty((await admin.ClientsAsync()).Clients);
    }

    [Theory]
    [InlineData("product=no-such-product", "product")]
    [InlineData("activated=maybe", "activated")]
    [InlineData("expiringWithin=soon", "expiringWithin")]
    [InlineData("expiringWithin=0", "expiringWithin")]
    [InlineData("silentFor=-3d", "silentFor")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("after=not-a-cursor", "after")]
    [InlineData("search=", "search")]
    [InlineData("search=ab", "search")]
    [InlineData("activated=true&activated=false", "activated")]
    [InlineData("colour=blue", "colour")]
    public async Task A_malformed_parameter_gets_400_naming_it(string query, string parameter)
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path);
        using var admin = new AdminClient(node);
        var (status, body) = await admin.SendAsync(HttpMethod.Get, "/api/v1/clients?" + query, AdminJson.Http.ErrorJson);
        Assert.Equal(400, status);
        Assert.StartsWith(parameter + ": ", body.Error);
    }

    [Fact]
    public async Task A_cmid_that_is_no_guid_gets_400_and_an_unknown_one_404()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path);
        using var admin = new AdminClient(node);
        var (status, body) = await admin.SendAsync(HttpMethod.Get, "/api/v1/clients/not-a-guid", AdminJson.Http.ErrorJson);
        Assert.Equal(400, status);
        Assert.StartsWith("cmid: ", body.Error);
        var unknown = Guid.NewGuid();
        (status, body) = await admin.SendAsync(HttpMethod.Get, $"/api/v1/clients/{unknown}", AdminJson.Http.ErrorJson);
        Assert.Equal(404, status);
        Assert.Contains(unknown.ToString(), body.Error);
    }

    [Fact]
    public async Task The_registry_survives_a_restart_and_retention_drops_machines_silent_too_long()
    {
        using var data = new TempDirectory();
        var recent = Guid.NewGuid();
        await using (var node = await NodeProcess.StartAsync(data.Path))
        {
            await using var connection = await node.OpenConnectionAsync();
            Assert.False((await connection.ActivateAsync(Requests.For("windows-11-pro", recent), Answer)).IsError);
            using var admin = new AdminClient(node);
            await WaitForRowsAsync(admin, 1);
            Assert.Equal(0, await node.StopGracefullyAsync());
        }
        // Backdated rows, as a node would have written them long ago: 30 and 500 days silent.
        var month = Guid.NewGuid();
        var old = Guid.NewGuid();
        RegistryRows.Insert(Path.Combine(data.Path, "registry.db"),
        [
            new(month, "MONTH", "windows-11-pro", DateTimeOffset.UtcNow.AddDays(-30), false),
            new(old, "OLD", "windows-11-pro", DateTimeOffset.UtcNow.AddDays(-500), false),
        ]);

        await using (var restarted = await NodeProcess.StartAsync(data.Path, "--client-retention", "400d"))
        {
            using var admin = new AdminClient(restarted);
            Assert.Equal([recent, month], (await admin.ClientsAsync()).Clients.Select(c => c.Cmid));
            Assert.Equal([month], (await admin.ClientsAsync("silentFor=14d")).Clients.Select(c => c.Cmid));
            Assert.Equal(0, await restarted.StopGracefullyAsync());
        }
        await using (var shorter = await NodeProcess.StartAsync(data.Path, "--client-retention", "14d"))
        {
            using var admin = new AdminClient(shorter);
            Assert.Equal([recent], (await admin.ClientsAsync()).Clients.Select(c => c.Cmid));
        }
    }

    [Fact]
    public async Task A_filtered_page_of_100000_machines_is_answered()
    {
        using var data = new TempDirectory();
        await using (var node = await NodeProcess.StartAsync(data.Path))
        {
            Assert.Equal(0, await node.StopGracefullyAsync());
        }
        var now = DateTimeOffset.UtcNow;
        RegistryRows.Insert(Path.Combine(data.Path, "registry.db"), Enumerable.Range(0, 100_000).Select(i =>
            new RegistryRows.Row(Guid.NewGuid(), "WS-" + i, i % 2 == 0 ? "windows-11-pro" : "windows-11-enterprise", now.AddMinutes(-i), i % 3 == 0))
            .Append(new RegistryRows.Row(Guid.NewGuid(), "PC_ACCT", "windows-11-pro", now.AddDays(-300), false))
            .Append(new RegistryRows.Row(Guid.NewGuid(), "PCXACCT", "windows-11-pro", now.AddDays(-300), false)));
        await using var restarted = await NodeProcess.StartAsync(data.Path);
        using var admin = new AdminClient(restarted);
        var page = await admin.ClientsAsync("product=windows-11-pro&activated=true&silentFor=1d&limit=50");
        Assert.Equal(50, page.Clients.Count);
        Assert.All(page.Clients, c => Assert.True(c.Activated && c.Product == "windows-11-pro" && c.LastContact <= now.AddDays(-1)));
        Assert.NotNull(page.Next);
        var next = await admin.ClientsAsync("product=windows-11-pro&activated=true&silentFor=1d&limit=50&after=" + page.Next);
        Assert.True(next.Clients[0].LastContact <= page.Clients[^1].LastContact);

        // Search: a rare text through the trigram index (WS-1234 and WS-12340 to WS-12349, newest first), a common one
        // read in page order, and LIKE's wildcards taken literally.
        Assert.Equal(new[] { 1234 }.Concat(Enumerable.Range(12340, 10)).Select(i => "WS-" + i),
            (await admin.ClientsAsync("search=ws-1234")).Clients.Select(c => c.Workstation));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => "WS-" + i), (await admin.ClientsAsync("search=WS-")).Clients.Select(c => c.Workstation));
        Assert.Equal(["PC_ACCT"], (await admin.ClientsAsync("search=c_acc")).Clients.Select(c => c.Workstation));
        Assert.Empty((await admin.ClientsAsync("search=ws-1%25")).Clients);

        // kms clients pages through the cursor (1,000 rows a page) up to its limit, each row once.
        var (exit, stdout, stderr) = await KmsCli.RunAsync("clients", "--admin", restarted.AdminEndpoint, "--data", restarted.DataDirectory,
            "--product", "windows-11-pro", "--activated", "--limit", "2500", "--csv");
        Assert.True(exit == 0, stderr);
        var rows = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1..];
        Assert.Equal(2500, rows.Length);
        Assert.Equal(2500, rows.Select(r => r[..36]).Distinct().Count());
        Assert.All(rows, r => Assert.Contains(",windows-11-pro,false,", r));
    }

    [Fact]
    public async Task Kms_clients_prints_csv_and_json()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path);
        await using var connection = await node.OpenConnectionAsync();
        var cmids = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var cmid in cmids)
        {
            Assert.False((await connection.ActivateAsync(Requests.For("windows-11-pro", cmid, "PC,\"" + cmid.ToString()[..4]), Answer)).IsError);
        }
        using var admin = new AdminClient(node);
        await WaitForRowsAsync(admin, 3);

        var (exit, stdout, stderr) = await KmsCli.RunAsync("clients", "--admin", node.AdminEndpoint, "--data", node.DataDirectory, "--csv");
        Assert.True(exit == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("cmid,workstation,application,product,virtualMachine,firstContact,lastContact,lastCount,activated,validUntil,node,cloned", lines[0]);
        Assert.Equal(cmids.Select(c => $"{c},\"PC,\"\"{c.ToString()[..4]}\",windows,windows-11-pro,false,").Order(),
            lines[1..].Select(l => l[..(l.IndexOf(",false,", StringComparison.Ordinal) + 7)]).Order());

        (exit, stdout, stderr) = await KmsCli.RunAsync("clients", "--admin", node.AdminEndpoint, "--data", node.DataDirectory,
            "--json", "--limit", "2");
        Assert.True(exit == 0, stderr);
        var json = System.Text.Json.JsonSerializer.Deserialize(stdout, AdminJson.Http.ClientsPageJson)!;
        Assert.Equal(2, json.Clients.Count);
        Assert.Subset(cmids.ToHashSet(), json.Clients.Select(c => c.Cmid).ToHashSet());
        Assert.NotNull(json.Next);

        (exit, _, stderr) = await KmsCli.RunAsync("clients", "--admin", node.AdminEndpoint, "--data", node.DataDirectory, "--silent-for", "soon");
        Assert.Equal(4, exit);
        Assert.Contains("silentFor: ", stderr);
    }

    [Fact]
    public async Task A_registry_of_the_first_schema_is_moved_into_the_current_one_at_start()
    {
        using var data = new TempDirectory();
        var cmid = Guid.NewGuid();
        RegistryRows.CreateFirstSchema(Path.Combine(data.Path, "registry.db"));
        RegistryRows.Insert(Path.Combine(data.Path, "registry.db"),
            [new(cmid, "FROM-V1", "windows-11-pro", DateTimeOffset.UtcNow.AddDays(-3), true)]);
        await using var node = await NodeProcess.StartAsync(data.Path);
        using var admin = new AdminClient(node);
        var row = Assert.Single((await admin.ClientsAsync()).Clients);
        Assert.Equal((cmid, "FROM-V1", true), (row.Cmid, row.Workstation, row.Activated));
        Assert.Equal([cmid], (await admin.ClientsAsync("search=m-v1")).Clients.Select(c => c.Cmid));
        await using var connection = await node.OpenConnectionAsync();
        Assert.False((await connection.ActivateAsync(Requests.For("windows-11-pro", cmid, "FROM-V1"), Answer)).IsError);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((await admin.ClientsAsync()).Clients.Single().LastContact == row.LastContact && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }
        Assert.True((await admin.ClientsAsync()).Clients.Single().LastContact > row.LastContact);
    }

    private static (DateTimeOffset, Guid, string, string) Key(ClientJson c) => (c.LastContact, c.Cmid, c.Workstation, c.Application);

    /// <summary>The registry is written in the background (about a second behind): wait until it holds <paramref name="count"/> rows.</summary>
    private static async Task<IReadOnlyList<ClientJson>> WaitForRowsAsync(AdminClient admin, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var page = await admin.ClientsAsync("limit=1000");
            if (page.Clients.Count >= count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(count, page.Clients.Count);
                return page.Clients;
            }
            await Task.Delay(200);
        }
    }
}
