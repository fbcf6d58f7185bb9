using System.Text.Json.Nodes;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Protocol.Tests;

/// <summary>Host certificates and host activation requests with real keys in real files: made, read back, checked,
/// and every way one is refused.</summary>
public sealed class HostCertificateTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"kms-certs-{Guid.NewGuid():N}");
    private readonly LicensingAuthority _authority;
    private readonly TrustedAuthority _trusted;
    private readonly HostKey _key;
    private readonly HostSigningKey _host;

    public HostCertificateTests()
    {
        _authority = LicensingAuthority.Create(Path.Combine(_directory, "authority"));
        _trusted = TrustedAuthority.Load(Path.Combine(_directory, "authority", LicensingAuthority.PublicKeyFile));
        _key = _authority.Issue("contoso-1", "Windows Server 2025 volume licence", "Contoso Ltd", Now.AddDays(-10), Now.AddDays(100));
        _host = HostSigningKey.LoadOrCreate(Path.Combine(_directory, "host-signing.key"));
    }

    private string Write(string json)
    {
        var path = Path.Combine(_directory, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void A_certificate_read_back_from_its_file_holds_and_ends_with_its_host_key()
    {
        var hostId = Guid.NewGuid();
        var issued = _authority.Certify(_key, hostId, _host.PublicKey, Now);

        var certificate = HostCertificate.Load(Write(issued.ToJson()));

        Assert.Null(certificate.Problem(_trusted, Now));
        Assert.Equal((_key.KeyId, _key.Group, hostId, Now, _key.ExpiresAt!.Value), (certificate.KeyId, certificate.Group, certificate.HostId, certificate.IssuedAt, certificate.ExpiresAt));
        Assert.Equal(_host.PublicKey, certificate.HostPublicKey);
        Assert.Contains("expired", certificate.Problem(_trusted, _key.ExpiresAt.Value));
    }

    [Fact]
    public void An_altered_certificate_or_one_of_another_authority_is_refused()
    {
        var certificate = _authority.Certify(_key, Guid.NewGuid(), _host.PublicKey, Now);
        var json = JsonNode.Parse(certificate.ToJson())!;
        json["group"] = "Office LTSC 2024 volume licence";

        var altered = HostCertificate.Parse(json.ToJsonString(), "altered");
        using var other = LicensingAuthority.Create(Path.Combine(_directory, "other"));
        var foreign = other.Certify(_key, Guid.NewGuid(), _host.PublicKey, Now);

        Assert.Contains("forged or altered", altered.Problem(_trusted, Now));
        Assert.Contains("not the trusted", foreign.Problem(_trusted, Now));
    }

    [Fact]
    public void Malformed_certificates_get_one_line_naming_the_field()
    {
        var json = JsonNode.Parse(_authority.Certify(_key, Guid.NewGuid(), _host.PublicKey, Now).ToJson())!;
        json["hostPublicKey"] = Convert.ToBase64String([1, 2, 3]);

        var error = Assert.Throws<HostKeyFormatException>(() => HostCertificate.Parse(json.ToJsonString(), "cert.json"));

        Assert.StartsWith("cert.json: hostPublicKey is not an ECDSA P-256 public key", error.Message);
        Assert.Throws<HostKeyFormatException>(() => HostCertificate.Parse("{\"format\":\"kmscluster-host-key/1\"}", "x"));
    }

    [Fact]
    public void A_request_proves_its_host_holds_the_key_it_names_and_survives_its_file()
    {
        var hostId = Guid.NewGuid();
        var request = HostActivationRequest.Load(Write(_host.Request(_key, hostId, "kms-a", Now, reactivation: false).ToJson()));

        Assert.True(request.IsSignedByItsHost());
        Assert.Equal((_key.KeyId, hostId, "kms-a", Now, false), (request.Key.KeyId, request.HostId, request.HostName, request.RequestedAt, request.Reactivation));
        Assert.True(_trusted.HasSigned(request.Key));

        // Another host's key in the request, or any changed field, breaks the proof.
        using var thief = HostSigningKey.CreateEphemeral();
        Assert.False((request with { HostPublicKey = thief.PublicKey }).IsSignedByItsHost());
        Assert.False((request with { HostId = Guid.NewGuid() }).IsSignedByItsHost());
        Assert.False((request with { Reactivation = true }).IsSignedByItsHost());
    }

    public void Dispose()
    {
        _authority.Dispose();
        _host.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
