using KmsCluster.Protocol.Admin;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>The client registry in a cluster's PostgreSQL database: rows land in the shared table, survive the node,
/// and the API says so when the database cannot be reached (503 naming it, never a 500 or an empty page).</summary>
public sealed class ClientRegistryPostgresTests
{
    [Fact]
    public async Task Machines_are_recorded_in_the_shared_database_and_an_unreachable_database_gets_503()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await postgres.CreateDatabaseAsync("kms");
        var cmid = Guid.NewGuid();
        using (var data = new TempDirectory())
        await using (var node = await NodeProcess.StartAsync(data.Path, "--db", postgres.ConnectionString("kms")))
        {
            await using var connection = await node.OpenConnectionAsync();
            foreach (var workstation in new[] { "LAB-01", "LAB-02" })
            {
                Assert.False((await connection.ActivateAsync(Requests.For("windows-11-pro", cmid, workstation), TimeSpan.FromSeconds(30))).IsError);
            }
            using var admin = new AdminClient(node);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            ClientsPageJson page;
            while ((page = await admin.ClientsAsync()).Clients.Count < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
            Assert.Equal(2, page.Clients.Count);
            Assert.All(page.Clients, c => Assert.True(c.Cloned && c.Node == node.Name && c.Cmid == cmid));
            var stored = await postgres.QueryAsync("kms", "SELECT workstation, node FROM client_registry WHERE cmid = $1 ORDER BY workstation", cmid);
            Assert.Equal(["LAB-01", "LAB-02"], stored.Select(r => (string)r[0]!));
            // Search (through pg_trgm's indexes, which the node made) and paging through the cursor.
            var indexes = await postgres.QueryAsync("kms", "SELECT indexname FROM pg_indexes WHERE tablename = 'client_registry' AND indexdef LIKE '%gin_trgm_ops%' ORDER BY indexname");
            Assert.Equal(["client_registry_search_cmid", "client_registry_search_workstation"], indexes.Select(r => (string)r[0]!));
            Assert.Equal(["LAB-02"], (await admin.ClientsAsync("search=b-02")).Clients.Select(c => c.Workstation));
            Assert.Equal(2, (await admin.ClientsAsync("search=" + cmid.ToString()[4..12].ToUpperInvariant())).Clients.Count);
            var first = await admin.ClientsAsync("limit=1");
            var rest = await admin.ClientsAsync("limit=1&after=" + first.Next);
            Assert.Equal(page.Clients.Select(c => c.Workstation), first.Clients.Concat(rest.Clients).Select(c => c.Workstation));
            Assert.Null(rest.Next);
            Assert.Equal(0, await node.StopGracefullyAsync());
        }

        // Another node on the same database (its own data directory) sees what the first one wrote.
        using var other = new TempDirectory();
        await using var second = await NodeProcess.StartAsync(other.Path, "--db", postgres.ConnectionString("kms"));
        using var secondAdmin = new AdminClient(second);
        var machine = await secondAdmin.GetAsync($"/api/v1/clients/{cmid}", AdminJson.Http.ClientMachineJson);
        Assert.True(machine.Cloned);
        Assert.Equal(2, machine.Rows.Count);

        await postgres.StopAsync();
        var (status, error) = await secondAdmin.SendAsync(HttpMethod.Get, "/api/v1/clients", AdminJson.Http.ErrorJson);
        Assert.Equal(503, status);
        Assert.Contains("client registry's database could not be reached", error.Error);
        await postgres.StartAgainAsync();
    }
}
