using System.Text;
using System.Text.Json.Nodes;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Protocol.Tests;

/// <summary>A host activation request's signed form and file, and the host's own signing key file: the bytes the
/// authority checks the host's signature over are the documented ones, and each bad field or file is named.</summary>
public sealed class HostRequestFormTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid HostId = Guid.Parse("01234567-89ab-cdef-0123-456789abcdef");
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"kms-request-{Guid.NewGuid():N}");
    private readonly LicensingAuthority _authority;
    private readonly HostKey _key;

    public HostRequestFormTests()
    {
        _authority = LicensingAuthority.Create(Path.Combine(_directory, "authority"));
        _key = _authority.Issue("contoso-1", "Windows Server 2025 volume licence", "Contoso Ltd", Now.AddDays(-10));
    }

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public void The_signed_form_of_a_request_is_the_documented_seven_lines()
    {
        var request = new HostActivationRequest(_key, HostId, "kms-a", [1, 2, 3], Now, true, []);

        Assert.Equal("kmscluster-host-activation-request/1\n" +
            $"hostKey:{Convert.ToBase64String(_key.CanonicalBytes())}.{Convert.ToBase64String(_key.Signature)}\n" +
            "hostId:01234567-89ab-cdef-0123-456789abcdef\nhostName:kms-a\nhostPublicKey:AQID\nrequestedAt:2025-06-01T12:00:00Z\nreactivation:true",
            Encoding.UTF8.GetString(request.CanonicalBytes()));
        Assert.EndsWith("\nreactivation:false", Encoding.UTF8.GetString((request with { Reactivation = false }).CanonicalBytes()));
    }

    [Fact]
    public void A_request_is_made_at_a_whole_second_and_its_file_ends_in_a_line_feed()
    {
        using var host = HostSigningKey.CreateEphemeral();
        var request = host.Request(_key, HostId, "kms-a", Now.AddMilliseconds(999), reactivation: false);

        Assert.Equal(Now, request.RequestedAt);
        Assert.True(request.IsSignedByItsHost());
        var json = request.ToJson();
        Assert.EndsWith("}\n", json);
        Assert.Contains("\"hostId\": \"01234567-89ab-cdef-0123-456789abcdef\"", json);
        var read = HostActivationRequest.Load(WriteFile("request.json", json));
        Assert.Equal(request.CanonicalBytes(), read.CanonicalBytes());
        Assert.True(read.IsSignedByItsHost());
    }

    [Fact]
    public void A_request_file_that_cannot_be_read_or_parsed_is_named()
    {
        Assert.StartsWith($"{PathOf("none.json")}: cannot read the host activation request: ",
            Assert.Throws<HostKeyFormatException>(() => HostActivationRequest.Load(PathOf("none.json"))).Message);
        Assert.StartsWith("req.json: not a host activation request: ",
            Assert.Throws<HostKeyFormatException>(() => HostActivationRequest.Parse("[", "req.json")).Message);
    }

    [Theory]
    [InlineData("hostName", " kms", "req.json: hostName must be 1 to 200 characters without control characters or surrounding spaces")]
    [InlineData("hostPublicKey", "AQID", "req.json: hostPublicKey is not an ECDSA P-256 public key (SubjectPublicKeyInfo DER)")]
    [InlineData("requestedAt", "now", "req.json: requestedAt \"now\" is not a UTC time as yyyy-MM-ddTHH:mm:ssZ")]
    [InlineData("hostId", " ", "req.json: hostId is missing")]
    public void A_malformed_request_field_is_named(string field, string value, string message)
    {
        using var host = HostSigningKey.CreateEphemeral();
        var document = JsonNode.Parse(host.Request(_key, HostId, "kms-a", Now, false).ToJson())!.AsObject();
        document[field] = value;

        Assert.Equal(message, Assert.Throws<HostKeyFormatException>(() => HostActivationRequest.Parse(document.ToJsonString(), "req.json")).Message);
    }

    [Fact]
    public void A_malformed_host_key_inside_a_request_is_named_as_the_requests_host_key()
    {
        using var host = HostSigningKey.CreateEphemeral();
        var document = JsonNode.Parse(host.Request(_key, HostId, "kms-a", Now, false).ToJson())!.AsObject();
        document["hostKey"]!["keyId"] = "K";

        Assert.StartsWith("req.json (hostKey): keyId \"K\"",
            Assert.Throws<HostKeyFormatException>(() => HostActivationRequest.Parse(document.ToJsonString(), "req.json")).Message);
    }

    [Fact]
    public void Missing_certificate_fields_are_named()
    {
        using var host = HostSigningKey.CreateEphemeral();
        var certificate = _authority.Certify(_key, HostId, host.PublicKey, Now);
        foreach (var field in new[] { "hostId", "authority", "expiresAt" })
        {
            var document = JsonNode.Parse(certificate.ToJson())!.AsObject();
            document.Remove(field);
            Assert.Equal($"cert.json: {field} is missing",
                Assert.Throws<HostKeyFormatException>(() => HostCertificate.Parse(document.ToJsonString(), "cert.json")).Message);
        }
        Assert.EndsWith("}\n", certificate.ToJson());
        Assert.StartsWith($"{PathOf("none.json")}: cannot read the host certificate: ",
            Assert.Throws<HostKeyFormatException>(() => HostCertificate.Load(PathOf("none.json"))).Message);
    }

    [Fact]
    public void A_host_signing_key_is_made_once_owner_only_and_read_back_the_same()
    {
        var path = PathOf("host-signing.key");
        Directory.CreateDirectory(_directory);

        byte[] publicKey;
        using (var made = HostSigningKey.LoadOrCreate(path)) publicKey = made.PublicKey;
        using var loaded = HostSigningKey.LoadOrCreate(path);

        Assert.Equal(publicKey, loaded.PublicKey);
        Assert.EndsWith("-----END PRIVATE KEY-----\n", File.ReadAllText(path));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        Assert.True(HostSigningKey.Verify(publicKey, [1, 2, 3], loaded.Sign([1, 2, 3])));
    }

    [Fact]
    public void A_host_signing_key_that_cannot_be_written_or_read_is_named()
    {
        var inMissingDirectory = PathOf(Path.Combine("no", "such", "host-signing.key"));
        Assert.StartsWith($"{inMissingDirectory}: cannot write the host's signing key: ",
            Assert.Throws<LicensingException>(() => HostSigningKey.LoadOrCreate(inMissingDirectory)).Message);

        var broken = WriteFile("broken.key", "not a key");
        Assert.StartsWith($"{broken}: not a PKCS#8 PEM private key: ",
            Assert.Throws<LicensingException>(() => HostSigningKey.LoadOrCreate(broken)).Message);
    }

    [Fact]
    public void A_signature_of_the_wrong_length_or_under_a_malformed_key_does_not_verify()
    {
        using var host = HostSigningKey.CreateEphemeral();
        var signature = host.Sign([1, 2, 3]);

        Assert.False(HostSigningKey.Verify(host.PublicKey, [1, 2, 3], signature[..63]));
        Assert.False(HostSigningKey.Verify(host.PublicKey, [1, 2, 3], [.. signature, 0]));
        Assert.False(HostSigningKey.Verify([1, 2, 3], [1, 2, 3], signature));
        Assert.False(HostSigningKey.Verify(host.PublicKey, [1, 2, 4], signature));
        Assert.True(HostSigningKey.Verify(host.PublicKey, [1, 2, 3], signature));
    }

    private string WriteFile(string name, string text)
    {
        Directory.CreateDirectory(_directory);
        File.WriteAllText(PathOf(name), text);
        return PathOf(name);
    }

    public void Dispose()
    {
        _authority.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
