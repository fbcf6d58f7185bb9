using System.Security.Cryptography;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Protocol.Tests;

/// <summary>The authority's key files and what it signs: a key pair is made once and never replaced, only a P-256
/// key is trusted, a broken key file is refused naming the file, and certificates end no later than their key.</summary>
public sealed class AuthorityKeyTests : IDisposable
{
    private const string WindowsGroup = "Windows Server 2025 volume licence";
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"kms-authority-{Guid.NewGuid():N}");

    private string PathOf(string name) => Path.Combine(_directory, name);

    private string WriteFile(string name, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PathOf(name))!);
        File.WriteAllText(PathOf(name), text);
        return PathOf(name);
    }

    [Fact]
    public void A_new_authority_writes_both_halves_as_pem_ending_in_a_line_feed()
    {
        using var authority = LicensingAuthority.Create(PathOf("a"));

        var privateKey = File.ReadAllText(Path.Combine(PathOf("a"), LicensingAuthority.PrivateKeyFile));
        var publicKey = File.ReadAllText(Path.Combine(PathOf("a"), LicensingAuthority.PublicKeyFile));
        Assert.EndsWith("-----END PRIVATE KEY-----\n", privateKey);
        Assert.EndsWith("-----END PUBLIC KEY-----\n", publicKey);
        Assert.Equal(("authority.key", "authority.pub"), (LicensingAuthority.PrivateKeyFile, LicensingAuthority.PublicKeyFile));
    }

    [Fact]
    public void An_authority_is_not_created_where_only_its_public_key_is()
    {
        WriteFile(Path.Combine("a", LicensingAuthority.PublicKeyFile), "anything");

        var error = Assert.Throws<LicensingException>(() => LicensingAuthority.Create(PathOf("a")));

        Assert.Equal($"{PathOf("a")} already holds an authority key; an authority's key is never replaced (pick another directory)", error.Message);
    }

    [Fact]
    public void An_authority_is_not_created_where_only_its_private_key_is()
    {
        WriteFile(Path.Combine("a", LicensingAuthority.PrivateKeyFile), "anything");
        Assert.Throws<LicensingException>(() => LicensingAuthority.Create(PathOf("a")));
        Assert.False(File.Exists(Path.Combine(PathOf("a"), LicensingAuthority.PublicKeyFile)));
    }

    [Fact]
    public void An_authority_that_cannot_be_written_says_so_naming_the_directory()
    {
        var notADirectory = WriteFile("file", "a file, not a directory");

        var error = Assert.Throws<LicensingException>(() => LicensingAuthority.Create(notADirectory));

        Assert.StartsWith($"{notADirectory}: cannot write the authority key: ", error.Message);
    }

    [Fact]
    public void Loading_an_authority_from_a_directory_without_a_key_names_the_file()
    {
        var error = Assert.Throws<LicensingException>(() => LicensingAuthority.Load(PathOf("none")));

        Assert.StartsWith($"{Path.Combine(PathOf("none"), "authority.key")}: cannot read the authority's private key: ", error.Message);
    }

    [Fact]
    public void A_private_key_file_that_is_not_pem_is_refused()
    {
        WriteFile(Path.Combine("a", LicensingAuthority.PrivateKeyFile), "not a key\n");

        var error = Assert.Throws<LicensingException>(() => LicensingAuthority.Load(PathOf("a")));

        Assert.StartsWith($"{Path.Combine(PathOf("a"), "authority.key")}: not a PKCS#8 PEM private key: ", error.Message);
    }

    [Fact]
    public void A_private_key_on_another_curve_is_refused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        WriteFile(Path.Combine("a", LicensingAuthority.PrivateKeyFile), p384.ExportPkcs8PrivateKeyPem());

        var error = Assert.Throws<LicensingException>(() => LicensingAuthority.Load(PathOf("a")));

        Assert.Equal($"{Path.Combine(PathOf("a"), "authority.key")}: not an ECDSA P-256 key", error.Message);
    }

    [Fact]
    public void A_trusted_key_on_another_curve_is_refused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var path = WriteFile("p384.pub", p384.ExportSubjectPublicKeyInfoPem());

        var error = Assert.Throws<LicensingException>(() => TrustedAuthority.Load(path));

        Assert.Equal($"{path}: an ECDSA P-256 key is needed, this one has 384 bits", error.Message);
    }

    [Fact]
    public void A_trusted_key_that_is_not_ecdsa_is_refused()
    {
        var path = WriteFile("broken.pub", "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n");

        var error = Assert.Throws<LicensingException>(() => TrustedAuthority.Load(path));

        Assert.StartsWith($"{path}: not an ECDSA public key: ", error.Message);
    }

    [Fact]
    public void A_missing_trusted_key_file_is_named()
    {
        var error = Assert.Throws<LicensingException>(() => TrustedAuthority.Load(PathOf("none.pub")));
        Assert.StartsWith($"{PathOf("none.pub")}: cannot read the authority key: ", error.Message);
    }

    [Fact]
    public void A_trusted_key_read_from_its_file_has_the_authoritys_fingerprint_and_source()
    {
        using var authority = LicensingAuthority.Create(PathOf("a"));
        var path = Path.Combine(PathOf("a"), LicensingAuthority.PublicKeyFile);

        var trusted = TrustedAuthority.Load(path);

        Assert.Equal(authority.Public.Fingerprint, trusted.Fingerprint);
        Assert.Matches("^[0-9a-f]{32}$", trusted.Fingerprint);
        Assert.Equal(path, trusted.Source);
        Assert.Equal("(in memory)", authority.Public.Source);
        using var spki = ECDsa.Create();
        spki.ImportFromPem(File.ReadAllText(path));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(spki.ExportSubjectPublicKeyInfo())[..16]), trusted.Fingerprint);
    }

    [Fact]
    public void An_issued_key_carries_whole_second_times_its_limit_and_a_signature_over_its_canonical_form()
    {
        using var authority = LicensingAuthority.Create(PathOf("a"));
        var expires = new DateTimeOffset(2026, 1, 2, 5, 4, 5, 999, TimeSpan.FromHours(2));

        var key = authority.Issue("k-1", WindowsGroup, "Contoso", Now.AddMilliseconds(250), expires, maxHosts: 7);

        Assert.Equal((Now, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), 7), (key.IssuedAt, key.ExpiresAt, key.MaxHosts));
        Assert.Equal(TimeSpan.Zero, key.ExpiresAt!.Value.Offset);
        Assert.Equal(authority.Public.Fingerprint, key.Authority);
        Assert.True(authority.Public.HasSigned(key));
        Assert.Equal(64, authority.Sign([1, 2, 3]).Length);
    }

    [Fact]
    public void A_certificate_lasts_the_default_validity_when_its_key_never_expires()
    {
        using var authority = LicensingAuthority.Create(PathOf("a"));
        var key = authority.Issue("k-1", WindowsGroup, "Contoso", Now);
        var hostKey = new byte[] { 1, 2, 3 };
        var hostId = Guid.NewGuid();

        var certificate = authority.Certify(key, hostId, hostKey, Now.AddMilliseconds(700));

        Assert.Equal(TimeSpan.FromDays(365), HostCertificate.DefaultValidity);
        Assert.Equal((Now, Now.AddDays(365)), (certificate.IssuedAt, certificate.ExpiresAt));
        Assert.Equal((key.KeyId, key.Group, key.Organisation, hostId, authority.Public.Fingerprint),
            (certificate.KeyId, certificate.Group, certificate.Organisation, certificate.HostId, certificate.Authority));
        Assert.Equal(hostKey, certificate.HostPublicKey);
        Assert.True(authority.Public.HasSigned(certificate));
    }

    [Fact]
    public void A_certificate_ends_when_its_key_expires_if_that_is_sooner()
    {
        using var authority = LicensingAuthority.Create(PathOf("a"));
        var soon = authority.Issue("k-soon", WindowsGroup, "Contoso", Now, Now.AddDays(30));
        var late = authority.Issue("k-late", WindowsGroup, "Contoso", Now, Now.AddDays(30));

        Assert.Equal(Now.AddDays(30), authority.Certify(soon, Guid.NewGuid(), [1], Now).ExpiresAt);
        Assert.Equal(Now.AddDays(7), authority.Certify(late, Guid.NewGuid(), [1], Now, TimeSpan.FromDays(7)).ExpiresAt);
    }

    [Fact]
    public void A_certificate_signature_of_the_wrong_length_or_by_another_key_is_not_the_authoritys()
    {
        using var authority = LicensingAuthority.Create(PathOf("a"));
        using var other = LicensingAuthority.Create(PathOf("b"));
        var certificate = authority.Certify(authority.Issue("k-1", WindowsGroup, "Contoso", Now), Guid.NewGuid(), [1], Now);

        Assert.False(authority.Public.HasSigned(certificate with { Signature = certificate.Signature[..63] }));
        Assert.False(authority.Public.HasSigned(certificate with { Signature = [] }));
        Assert.False(other.Public.HasSigned(certificate));
        Assert.False(authority.Public.HasSigned(certificate with { Organisation = "Mallory" }));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }
}
