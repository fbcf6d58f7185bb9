using KmsCluster.Client.Authority;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Testing;

namespace KmsCluster.Authority.Tests;

/// <summary>`kms-authority answer`: the telephone activation, on the same store and rules as the service.</summary>
public sealed class OfflineAnswerTests : IDisposable
{
    private readonly TestAuthorityKeys _keys = new();
    private readonly TempDirectory _data = new();
    private readonly TempDirectory _files = new();

    private string File(string name) => Path.Combine(_files.Path, name);

    private async Task<(int ExitCode, string StdOut, string StdErr)> AnswerAsync(HostActivationRequest request, string name)
    {
        await System.IO.File.WriteAllTextAsync(File(name + ".request.json"), request.ToJson());
        return await AuthorityProcess.RunAsync("answer", File(name + ".request.json"), "--out", File(name + ".certificate.json"),
            "--keys", _keys.Directory, "--data", _data.Path);
    }

    [Fact]
    public async Task An_offline_answer_is_a_certificate_the_checker_accepts_and_counts_in_the_same_store_as_the_service()
    {
        var key = _keys.Issue("offline", maxHosts: 2);
        using var host = new TestHost("offline-host");
        var (exit, stdout, stderr) = await AnswerAsync(host.Request(key), "first");
        Assert.True(exit == 0, $"exit {exit}: {stdout}{stderr}");
        Assert.StartsWith("activated: host " + host.Id.ToString("D"), stdout);

        var certificate = HostCertificate.Load(File("first.certificate.json"));
        Assert.Null(certificate.Problem(_keys.Authority.Public, DateTimeOffset.UtcNow));
        Assert.Equal((key.KeyId, host.Id), (certificate.KeyId, certificate.HostId));
        Assert.Equal(host.Key.PublicKey, certificate.HostPublicKey);

        // The service on the same store sees the host, and a second host fills the key.
        await using (var service = await AuthorityProcess.StartAsync(_keys.Directory, _data.Path))
        {
            using var client = new AuthorityClient(service.Url);
            await client.GrantedAsync(host.Request(key), "already-active");
            using var second = new TestHost("online-host");
            await client.GrantedAsync(second.Request(key), "activated");
        }

        using var third = new TestHost("third-host");
        (exit, stdout, stderr) = await AnswerAsync(third.Request(key), "third");
        Assert.Equal(2, exit);
        Assert.StartsWith("kms-authority: refused (host-limit-reached): ", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.False(System.IO.File.Exists(File("third.certificate.json")));
    }

    [Fact]
    public async Task An_offline_request_that_is_not_valid_is_refused_with_exit_code_2()
    {
        var key = _keys.Issue("offline-skewed");
        using var host = new TestHost("skewed");
        var (exit, _, stderr) = await AnswerAsync(host.Request(key, at: DateTimeOffset.UtcNow.AddHours(-6)), "skewed");
        Assert.Equal(2, exit);
        Assert.Contains("refused (invalid-request): requestedAt", stderr);
    }

    public void Dispose()
    {
        _keys.Dispose();
        _data.Dispose();
        _files.Dispose();
    }
}
