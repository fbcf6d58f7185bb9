using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Protocol.Tests;

/// <summary>The edges of a host certificate's checks: the exact second it starts (less the clock tolerance) and
/// ends, and each field a certificate or activation request file may get wrong, refused naming that field.</summary>
public sealed class HostCertificateFieldTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"kms-certfields-{Guid.NewGuid():N}");
    private readonly LicensingAuthority _authority;
    private readonly HostSigningKey _host = HostSigningKey.CreateEphemeral();
    private readonly HostKey _key;
    private readonly HostCertificate _certificate;

    public HostCertificateFieldTests()
    {
        _authority = LicensingAuthority.Create(Path.Combine(_directory, "authority"));
        _key = _authority.Issue("contoso-1", "Windows Server 2025 volume licence", "Contoso Ltd", Now.AddDays(-10));
        _certificate = _authority.Certify(_key, Guid.Parse("01234567-89ab-cdef-0123-456789abcdef"), _host.PublicKey, Now, TimeSpan.FromDays(1));
    }

    private string Refused(Action<JsonObject> change)
    {
        var document = JsonNode.Parse(_certificate.ToJson())!.AsObject();
        change(document);
        return Assert.Throws<HostKeyFormatException>(() => HostCertificate.Parse(document.ToJsonString(), "cert.json")).Message;
    }

    [Fact]
    public void A_certificate_holds_from_four_hours_before_its_issue_until_the_second_it_expires()
    {
        Assert.Null(_certificate.Problem(_authority.Public, Now.AddHours(-4)));
        Assert.Equal("the host certificate is not valid before 2025-06-01T12:00:00Z", _certificate.Problem(_authority.Public, Now.AddHours(-4).AddSeconds(-1)));
        Assert.Null(_certificate.Problem(_authority.Public, Now.AddDays(1).AddSeconds(-1)));
        Assert.Equal("the host certificate expired at 2025-06-02T12:00:00Z", _certificate.Problem(_authority.Public, Now.AddDays(1)));
        Assert.Equal(TimeSpan.FromHours(4), HostCertificate.ClockTolerance);
    }

    [Fact]
    public void A_certificate_checked_against_another_authority_names_both()
    {
        using var other = LicensingAuthority.Create(Path.Combine(_directory, "other"));
        Assert.Equal($"the host certificate is signed by authority {_authority.Public.Fingerprint}, not the trusted {other.Public.Fingerprint}",
            _certificate.Problem(other.Public, Now));
        Assert.Equal("the host certificate's signature is not the authority's (forged or altered)",
            (_certificate with { HostId = Guid.NewGuid() }).Problem(_authority.Public, Now));
    }

    [Fact]
    public void The_canonical_form_is_the_documented_nine_lines()
    {
        var certificate = new HostCertificate("k-1", "G", "O", Guid.Parse("01234567-89ab-cdef-0123-456789abcdef"), [1, 2, 3],
            Now, Now.AddDays(1), "ab", []);
        Assert.Equal("kmscluster-host-certificate/1\nkeyId:k-1\ngroup:G\norganisation:O\nhostId:01234567-89ab-cdef-0123-456789abcdef\n" +
            "hostPublicKey:AQID\nissuedAt:2025-06-01T12:00:00Z\nexpiresAt:2025-06-02T12:00:00Z\nauthority:ab",
            Encoding.UTF8.GetString(certificate.CanonicalBytes()));
    }

    [Fact]
    public void A_certificate_survives_its_document_field_by_field()
    {
        var read = HostCertificate.Parse(_certificate.ToJson(), "cert.json");

        Assert.Equal(_certificate.CanonicalBytes(), read.CanonicalBytes());
        Assert.Equal(_certificate.Signature, read.Signature);
        Assert.Null(read.Problem(_authority.Public, Now));
        Assert.DoesNotContain("\\u002B", _certificate.ToJson());
        Assert.DoesNotContain("\\u002F", _certificate.ToJson());
    }

    [Fact]
    public void A_certificate_file_of_another_format_or_none_is_refused()
    {
        Assert.Equal("cert.json: format \"kmscluster-host-key/1\" is not kmscluster-host-certificate/1", Refused(d => d["format"] = "kmscluster-host-key/1"));
        Assert.Equal("cert.json: not a host certificate (empty)",
            Assert.Throws<HostKeyFormatException>(() => HostCertificate.Parse("null", "cert.json")).Message);
        Assert.StartsWith("cert.json: not a host certificate: ",
            Assert.Throws<HostKeyFormatException>(() => HostCertificate.Parse("{", "cert.json")).Message);
    }

    [Fact]
    public void A_certificate_that_expires_when_it_is_issued_is_refused()
    {
        Assert.Equal("cert.json: expiresAt 2025-06-01T12:00:00Z is not after issuedAt 2025-06-01T12:00:00Z",
            Refused(d => d["expiresAt"] = "2025-06-01T12:00:00Z"));
    }

    [Theory]
    [InlineData("01234567-89AB-CDEF-0123-456789ABCDEF")]
    [InlineData("0123456789abcdef0123456789abcdef")]
    [InlineData("{01234567-89ab-cdef-0123-456789abcdef}")]
    [InlineData("host-1")]
    public void A_host_id_that_is_not_a_lower_case_guid_with_hyphens_is_refused(string hostId)
    {
        Assert.Equal($"cert.json: hostId \"{hostId}\" is not a lower-case GUID with hyphens", Refused(d => d["hostId"] = hostId));
    }

    [Fact]
    public void A_host_public_key_on_another_curve_or_with_trailing_bytes_is_refused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Assert.Equal("cert.json: hostPublicKey is not an ECDSA P-256 public key",
            Refused(d => d["hostPublicKey"] = Convert.ToBase64String(p384.ExportSubjectPublicKeyInfo())));
        Assert.Equal("cert.json: hostPublicKey is not an ECDSA P-256 public key",
            Refused(d => d["hostPublicKey"] = Convert.ToBase64String([.. _host.PublicKey, 0])));
        Assert.Equal("cert.json: hostPublicKey is not base64", Refused(d => d["hostPublicKey"] = "not base64!"));
        Assert.Equal("cert.json: hostPublicKey is missing", Refused(d => d.Remove("hostPublicKey")));
    }

    [Theory]
    [InlineData("keyId", "K 1", "cert.json: keyId \"K 1\" may hold only a-z, 0-9 and '-' (1 to 64 characters)")]
    [InlineData("group", " G", "cert.json: group must be 1 to 200 characters without control characters or surrounding spaces")]
    [InlineData("organisation", "O\n", "cert.json: organisation must be 1 to 200 characters without control characters or surrounding spaces")]
    [InlineData("issuedAt", "2025-06-01", "cert.json: issuedAt \"2025-06-01\" is not a UTC time as yyyy-MM-ddTHH:mm:ssZ")]
    [InlineData("authority", "ABCDEF0123456789abcdef0123456789", "cert.json: authority \"ABCDEF0123456789abcdef0123456789\" is not a key fingerprint (32 lower-case hex digits)")]
    [InlineData("authority", "abcdef0123456789abcdef012345678", "cert.json: authority \"abcdef0123456789abcdef012345678\" is not a key fingerprint (32 lower-case hex digits)")]
    [InlineData("signature", "??", "cert.json: signature is not base64")]
    [InlineData("keyId", " ", "cert.json: keyId is missing")]
    public void A_malformed_certificate_field_is_named(string field, string value, string message)
    {
        Assert.Equal(message, Refused(d => d[field] = value));
    }

    [Fact]
    public void A_request_without_its_host_key_or_of_another_format_is_refused()
    {
        var document = JsonNode.Parse(_host.Request(_key, Guid.NewGuid(), "kms-a", Now, reactivation: true).ToJson())!.AsObject();
        var withoutKey = document.DeepClone().AsObject();
        withoutKey.Remove("hostKey");
        var otherFormat = document.DeepClone().AsObject();
        otherFormat["format"] = "x";

        Assert.Equal("req.json: hostKey is missing",
            Assert.Throws<HostKeyFormatException>(() => HostActivationRequest.Parse(withoutKey.ToJsonString(), "req.json")).Message);
        Assert.Equal("req.json: format \"x\" is not kmscluster-host-activation-request/1",
            Assert.Throws<HostKeyFormatException>(() => HostActivationRequest.Parse(otherFormat.ToJsonString(), "req.json")).Message);
        var read = HostActivationRequest.Parse(document.ToJsonString(), "req.json");
        Assert.True(read.Reactivation);
        Assert.True(read.IsSignedByItsHost());
        document.Remove("reactivation");
        Assert.False(HostActivationRequest.Parse(document.ToJsonString(), "req.json").Reactivation);
    }

    public void Dispose()
    {
        _authority.Dispose();
        _host.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
