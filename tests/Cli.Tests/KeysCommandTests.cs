using KmsCluster.Cli;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Licensing;

using KmsCluster.Client.Tests;

namespace KmsCluster.Cli.Tests;

/// <summary><c>kms keys</c> in-process: a real authority and real key files in a temp directory, a fake admin API.</summary>
public sealed class KeysCommandTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"kms-keys-cli-{Guid.NewGuid():N}");

    private string PathOf(string name) => Path.Combine(_directory, name);

    private static Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(params string[] args) => CliTests.RunAsync(args);

    private async Task CreateAuthorityAsync()
    {
        var (exit, stdout, stderr) = await RunAsync("keys", "authority-init", "--out", PathOf("authority"));
        Assert.True(exit == 0, stderr);
        Assert.Contains("created licensing authority", stdout);
    }

    [Fact]
    public async Task An_issued_key_verifies_with_the_authoritys_public_key()
    {
        await CreateAuthorityAsync();

        var (exit, stdout, stderr) = await RunAsync("keys", "issue", "--authority", PathOf("authority"),
            "--group", "windows server 2025 volume licence", "--org", "Contoso Ltd", "--max-hosts", "12", "--expires", "2099-12-31",
            "--out", PathOf("contoso.hostkey.json"));

        Assert.True(exit == 0, stderr);
        var key = HostKey.Load(PathOf("contoso.hostkey.json"));
        Assert.Contains($"issued host key {key.KeyId}", stdout);
        Assert.StartsWith("windows-server-2025-volume-licence-", key.KeyId);
        Assert.Equal(("Windows Server 2025 volume licence", "Contoso Ltd", 12), (key.Group, key.Organisation, key.HostLimit));
        Assert.Equal(new DateTimeOffset(2099, 12, 31, 0, 0, 0, TimeSpan.Zero), key.ExpiresAt);
        var trusted = TrustedAuthority.Load(PathOf("authority/authority.pub"));
        var catalog = ProductCatalog.Default;
        var check = HostKeyCheck.Verify(key, [trusted], catalog, catalog.FindHostOs("Windows Server 2022")!, DateTimeOffset.UtcNow);
        Assert.True(check.IsValid, check.Reason);
    }

    [Fact]
    public async Task Issue_refuses_an_unknown_group_with_the_closest_names()
    {
        await CreateAuthorityAsync();

        var (exit, _, stderr) = await RunAsync("keys", "issue", "--authority", PathOf("authority"), "--group", "Office LTSC 2042 volume licence",
            "--org", "Contoso", "--out", PathOf("k.json"));

        Assert.Equal(4, exit);
        Assert.StartsWith("kms: --group: unknown key group \"Office LTSC 2042 volume licence\"; closest: Office LTSC 2024 volume licence", stderr);
        Assert.False(File.Exists(PathOf("k.json")));
    }

    [Theory]
    [InlineData("--max-hosts", "0", "--max-hosts: from 1 to 100000")]
    [InlineData("--expires", "2001-01-01", "--expires: 2001-01-01T00:00:00Z is not in the future")]
    [InlineData("--expires", "next year", "--expires: \"next year\" is not a UTC date")]
    [InlineData("--key-id", "Key 1", "--key-id: \"Key 1\" may hold only")]
    public async Task Issue_refuses_bad_values(string flag, string value, string message)
    {
        await CreateAuthorityAsync();

        var (exit, _, stderr) = await RunAsync("keys", "issue", "--authority", PathOf("authority"), "--group", "Office LTSC 2024 volume licence",
            "--org", "Contoso", flag, value, "--out", PathOf("k.json"));

        Assert.Equal(4, exit);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public async Task Nothing_is_ever_overwritten()
    {
        await CreateAuthorityAsync();
        var (again, _, againError) = await RunAsync("keys", "authority-init", "--out", PathOf("authority"));
        Assert.Equal(4, again);
        Assert.Contains("already holds an authority key", againError);

        File.WriteAllText(PathOf("taken.json"), "{}");
        var (exit, _, stderr) = await RunAsync("keys", "issue", "--authority", PathOf("authority"), "--group", "Office LTSC 2024 volume licence",
            "--org", "Contoso", "--out", PathOf("taken.json"));
        Assert.Equal(4, exit);
        Assert.Contains("exists; a host key file is never overwritten", stderr);
        Assert.Equal("{}", File.ReadAllText(PathOf("taken.json")));
    }

    [Fact]
    public async Task Issue_without_an_authority_says_which_file_is_missing()
    {
        var (exit, _, stderr) = await RunAsync("keys", "issue", "--authority", PathOf("nowhere"), "--group", "Office LTSC 2024 volume licence",
            "--org", "Contoso", "--out", PathOf("k.json"));
        Assert.Equal(4, exit);
        Assert.Contains(PathOf("nowhere/authority.key"), stderr);
    }

    private static readonly IReadOnlyList<HostKeyLedgerJson> HostKeys =
    [
        new(Key("k-windows", "Windows Server 2025 volume licence", "/etc/kmscluster/w.json", "active", "ok",
                "the host activation ledger confirmed this host (already-active)"),
            [
                new(Guid.Parse("0c8a3d5e-2b7f-4e61-9a04-5d3b1f6e7a28"), "kms-a", DateTimeOffset.Parse("2025-06-01T12:00:00Z"),
                    DateTimeOffset.Parse("2025-06-03T08:30:00Z"), Reactivations: 2, Self: true),
                new(Guid.Parse("1d9b4e6f-3c80-4f72-8b15-6e4c2a7f8b39"), "kms-b", DateTimeOffset.Parse("2025-06-02T12:00:00Z"),
                    DateTimeOffset.Parse("2025-06-02T12:00:00Z"), Reactivations: 0, Self: false),
            ],
            Owner: "akka.tcp://kms-1a2b@10.0.0.2:4053", Error: null),
        new(Key("k-old", "Office LTSC 2024 volume licence", "/etc/kmscluster/o.json", "refused", "expired",
                "expired at 2025-01-01T00:00:00Z"),
            Hosts: null, Owner: null, Error: "ledger unavailable, retry later"),
    ];

    private static KeyJson Key(string keyId, string group, string file, string status, string problem, string reason) =>
        new(keyId, group, "Contoso", DateTimeOffset.Parse("2024-06-01T00:00:00Z"), ExpiresAt: null, MaxHosts: 6,
            MaxReactivations: 9, Authority: "0123456789abcdef0123456789abcdef", file, status, problem, reason);

    private static ReactivationJson Reactivation(string outcome, int reactivations) =>
        new("k-windows", outcome, reactivations, MaxReactivations: 9, Hosts: 2, MaxHosts: 6);

    [Fact]
    public async Task Status_prints_each_key_with_its_ledger()
    {
        await using var admin = FakeAdminApi.Start(HostKeys, AdminJson.Http.IReadOnlyListHostKeyLedgerJson);

        var (exit, stdout, stderr) = await RunAsync("keys", "status", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken);

        Assert.True(exit == 0, stderr);
        Assert.Equal("GET /api/v1/host-keys HTTP/1.1", Assert.Single(admin.Requests));
        Assert.Contains("k-windows: Windows Server 2025 volume licence, Contoso; active: the host activation ledger confirmed this host (already-active)", stdout);
        Assert.Contains("hosts 2 of 6, re-activations up to 9 per host", stdout);
        var self = Assert.Single(stdout.Split('\n'), l => l.Contains("kms-a", StringComparison.Ordinal));
        Assert.Contains("2025-06-01 12:00:00", self);
        Assert.Contains("2/9", self);
        Assert.Contains("this node", self);
        Assert.Contains("k-old: Office LTSC 2024 volume licence, Contoso; refused: expired at 2025-01-01T00:00:00Z", stdout);
        Assert.Contains("ledger unavailable, retry later", stdout);
    }

    [Fact]
    public async Task Status_json_is_the_admin_apis_answer()
    {
        await using var admin = FakeAdminApi.Start(HostKeys, AdminJson.Http.IReadOnlyListHostKeyLedgerJson);
        var (exit, stdout, _) = await RunAsync("keys", "status", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken, "--json");
        Assert.Equal(0, exit);
        Assert.Equal(admin.Body, stdout.Trim());
    }

    [Fact]
    public async Task Reactivate_posts_and_reports_the_counts()
    {
        await using var admin = FakeAdminApi.Start(Reactivation("reactivated", 3), AdminJson.Http.ReactivationJson);

        var (exit, stdout, stderr) = await RunAsync("keys", "reactivate", "k-windows", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken);

        Assert.True(exit == 0, stderr);
        Assert.Equal("POST /api/v1/host-keys/k-windows/reactivate HTTP/1.1", Assert.Single(admin.Requests));
        Assert.Contains("host key k-windows: reactivated; this host re-activated 3 of 9 times; the key has 2 of 6 hosts", stdout);
    }

    [Fact]
    public async Task A_refused_reactivation_exits_2_with_the_reason()
    {
        await using var admin = FakeAdminApi.Start(Reactivation("reactivation-limit-reached", 9), AdminJson.Http.ReactivationJson,
            409, "Conflict");

        var (exit, _, stderr) = await RunAsync("keys", "reactivate", "k-windows", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken);

        Assert.Equal(2, exit);
        Assert.Contains("409 host key k-windows: reactivation-limit-reached; this host re-activated 9 of 9 times", stderr);
    }

    [Fact]
    public async Task A_reactivation_refused_with_an_error_exits_2_with_its_text()
    {
        await using var admin = FakeAdminApi.Error(409, "Conflict", "host key k-old cannot be re-activated here: expired at 2025-01-01T00:00:00Z");

        var (exit, _, stderr) = await RunAsync("keys", "reactivate", "k-old", "--admin", admin.Address.ToString(), "--token", CliTests.TestToken);

        Assert.Equal(2, exit);
        Assert.Contains("409 host key k-old cannot be re-activated here: expired at 2025-01-01T00:00:00Z", stderr);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }
}
