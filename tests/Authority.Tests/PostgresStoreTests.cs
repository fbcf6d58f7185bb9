using KmsCluster.Client.Authority;
using KmsCluster.Testing;

namespace KmsCluster.Authority.Tests;

/// <summary>The same rules on PostgreSQL (--db), with two authority processes on one database.</summary>
public sealed class PostgresStoreTests : IAsyncLifetime
{
    private readonly TestAuthorityKeys _keys = new();
    private readonly TempDirectory _data = new();
    private PostgresServer _postgres = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        await _postgres.CreateDatabaseAsync("authority");
    }

    [Fact]
    public async Task Two_authority_processes_on_one_database_activate_six_hosts_between_them_and_refuse_the_seventh()
    {
        var db = _postgres.ConnectionString("authority");
        await using var first = await AuthorityProcess.StartAsync(_keys.Directory, _data.Path, "--db", db);
        await using var second = await AuthorityProcess.StartAsync(_keys.Directory, _data.Path, "--db", db);
        using var firstClient = new AuthorityClient(first.Url);
        using var secondClient = new AuthorityClient(second.Url);
        var key = _keys.Issue("postgres");
        var hosts = Enumerable.Range(0, 12).Select(i => new TestHost($"pg-host-{i}")).ToList();

        // Twelve hosts at once, half through each process: exactly six are counted.
        var answers = await Task.WhenAll(hosts.Select((h, i) =>
            (i % 2 == 0 ? firstClient : secondClient).ActivateAsync(h.Request(key), CancellationToken.None)));
        Assert.Equal(6, answers.OfType<AuthorityGranted>().Count());
        Assert.All(answers.OfType<AuthorityRefusal>(), r => Assert.Equal("host-limit-reached", r.Code));

        Assert.Equal(6L, await _postgres.ExecuteScalarAsync("authority",
            "SELECT count(*) FROM host_activations WHERE key_id = $1", key.KeyId));
        var recorded = await AuthoritySteps.HostsAsync(second.Url, key.KeyId);
        Assert.Equal(6, recorded.GetProperty("hostCount").GetInt32());

        using var seventh = new TestHost("pg-seventh");
        await firstClient.RefusedAsync(seventh.Request(key), 409, "host-limit-reached");
        var active = hosts[answers.ToList().FindIndex(a => a is AuthorityGranted)];
        await secondClient.GrantedAsync(active.Request(key, reactivation: true), "reactivated");
        hosts.ForEach(h => h.Dispose());
    }

    public async Task DisposeAsync()
    {
        await _postgres.DisposeAsync();
        _keys.Dispose();
        _data.Dispose();
    }
}
