using KmsCluster.Client.Authority;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Testing;

namespace KmsCluster.Authority.Tests;

/// <summary>An authority key directory made for a test (as `kms keys authority-init` makes one) and what it issues.</summary>
public sealed class TestAuthorityKeys : IDisposable
{
    private readonly TempDirectory _directory = new();

    public TestAuthorityKeys()
    {
        Authority = LicensingAuthority.Create(Directory);
    }

    public string Directory => Path.Combine(_directory.Path, "authority");

    public LicensingAuthority Authority { get; }

    /// <summary>A key valid from yesterday, never expiring unless told, with a unique id (<paramref name="name"/>: up to 31 characters).</summary>
    public HostKey Issue(string name, int? maxHosts = null, DateTimeOffset? expiresAt = null, DateTimeOffset? issuedAt = null) =>
        Authority.Issue($"{name}-{Guid.NewGuid():N}", "Windows Server 2025 volume licence",
            "Contoso Ltd", issuedAt ?? DateTimeOffset.UtcNow.AddDays(-1), expiresAt, maxHosts);

    public void Dispose()
    {
        Authority.Dispose();
        _directory.Dispose();
    }
}

/// <summary>A simulated host: its id, name and own signing key pair.</summary>
public sealed class TestHost(string name) : IDisposable
{
    public Guid Id { get; } = Guid.NewGuid();

    public string Name { get; } = name;

    public HostSigningKey Key { get; private set; } = HostSigningKey.CreateEphemeral();

    public HostActivationRequest Request(HostKey key, bool reactivation = false, DateTimeOffset? at = null) =>
        Key.Request(key, Id, Name, at ?? DateTimeOffset.UtcNow, reactivation);

    /// <summary>A reinstall: same host id, a new data directory and so a new key pair.</summary>
    public void Reinstall()
    {
        Key.Dispose();
        Key = HostSigningKey.CreateEphemeral();
    }

    public void Dispose() => Key.Dispose();
}

public static class AuthoritySteps
{
    public static async Task<AuthorityGranted> GrantedAsync(this AuthorityClient client, HostActivationRequest request, string outcome)
    {
        var answer = await client.ActivateAsync(request, CancellationToken.None);
        var granted = Assert.IsType<AuthorityGranted>(answer);
        Assert.Equal(outcome, granted.Outcome);
        return granted;
    }

    public static async Task<AuthorityRefusal> RefusedAsync(this AuthorityClient client, HostActivationRequest request, int status, string code)
    {
        var answer = await client.ActivateAsync(request, CancellationToken.None);
        var refusal = Assert.IsType<AuthorityRefusal>(answer);
        Assert.Equal((status, code), (refusal.Status, refusal.Code));
        return refusal;
    }

    /// <summary>The hosts the authority recorded for a key, from GET /api/v1/host-keys/{keyId}.</summary>
    public static async Task<System.Text.Json.JsonElement> HostsAsync(Uri authority, string keyId)
    {
        using var http = new HttpClient { BaseAddress = authority };
        var body = await http.GetStringAsync($"api/v1/host-keys/{keyId}");
        return System.Text.Json.JsonDocument.Parse(body).RootElement.Clone();
    }
}

/// <summary>One kms-authority on SQLite shared by a test class; tests use keys of their own.</summary>
public sealed class AuthorityFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new();

    public TestAuthorityKeys Keys { get; } = new();

    public AuthorityProcess Process { get; private set; } = null!;

    public AuthorityClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Process = await AuthorityProcess.StartAsync(Keys.Directory, _data.Path);
        Client = new AuthorityClient(Process.Url);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Process.DisposeAsync();
        Keys.Dispose();
        _data.Dispose();
    }
}
