using System.Text;
using System.Text.Json.Nodes;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Protocol.Tests;

/// <summary>Host keys with real ECDSA keys in real files: issue, read back, verify, and every way one is refused.</summary>
public sealed class HostKeyTests : IDisposable
{
    private const string WindowsGroup = "Windows Server 2025 volume licence";
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ProductCatalog Catalog = ProductCatalog.Default;
    private static readonly HostOperatingSystem Server2025 = Catalog.FindHostOs("Windows Server 2025")!;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"kms-keys-{Guid.NewGuid():N}");
    private readonly LicensingAuthority _authority;
    private readonly TrustedAuthority _trusted;

    public HostKeyTests()
    {
        _authority = LicensingAuthority.Create(Path.Combine(_directory, "authority"));
        _trusted = TrustedAuthority.Load(Path.Combine(_directory, "authority", LicensingAuthority.PublicKeyFile));
    }

    private HostKey Issue(string group = WindowsGroup, DateTimeOffset? expires = null, int? maxHosts = null) =>
        _authority.Issue("k-" + Guid.NewGuid().ToString("N")[..12], group, "Contoso Ltd", Now.AddDays(-10), expires, maxHosts);

    /// <summary>Writes the key as a file and reads it back, as a node does.</summary>
    private HostKey RoundTrip(HostKey key) => HostKey.Load(Write(key.ToJson()));

    private string Write(string json)
    {
        var path = Path.Combine(_directory, $"{Guid.NewGuid():N}.hostkey.json");
        File.WriteAllText(path, json);
        return path;
    }

    private HostKeyCheck Verify(HostKey key, HostOperatingSystem? os = null, IReadOnlyList<TrustedAuthority>? trusted = null) =>
        HostKeyCheck.Verify(key, trusted ?? [_trusted], Catalog, os ?? Server2025, Now);

    [Fact]
    public void A_key_issued_by_a_trusted_authority_and_read_from_its_file_is_valid()
    {
        var issued = Issue(maxHosts: 10);
        var key = RoundTrip(issued);

        var check = Verify(key);

        Assert.True(check.IsValid, check.Reason);
        Assert.Equal(WindowsGroup, check.Group!.Name);
        Assert.Equal((issued.KeyId, issued.Group, issued.Organisation, issued.IssuedAt, issued.ExpiresAt, 10, 10),
            (key.KeyId, key.Group, key.Organisation, key.IssuedAt, key.ExpiresAt, key.MaxHosts, key.HostLimit));
        Assert.Equal(_trusted.Fingerprint, key.Authority);
        Assert.Equal(64, key.Signature.Length);
    }

    [Fact]
    public void Without_an_exception_a_key_activates_six_hosts()
    {
        var key = RoundTrip(Issue());
        Assert.Null(key.MaxHosts);
        Assert.Equal(6, key.HostLimit);
        Assert.DoesNotContain("maxHosts", key.ToJson());
    }

    [Theory]
    [InlineData("group", "Office LTSC 2024 volume licence")]
    [InlineData("organisation", "Fabrikam")]
    [InlineData("maxHosts", "600")]
    [InlineData("expiresAt", "2099-01-01T00:00:00Z")]
    [InlineData("issuedAt", "2025-05-01T00:00:00Z")]
    [InlineData("keyId", "another-key")]
    public void A_key_changed_after_issue_has_a_bad_signature(string field, string value)
    {
        var document = JsonNode.Parse(Issue().ToJson())!.AsObject();
        document[field] = field == "maxHosts" ? JsonValue.Create(int.Parse(value)) : JsonValue.Create(value);

        var check = Verify(HostKey.Load(Write(document.ToJsonString())));

        Assert.Equal(HostKeyProblem.BadSignature, check.Problem);
        Assert.Contains("bad signature", check.Reason);
    }

    [Fact]
    public void A_flipped_bit_in_the_signature_is_a_bad_signature()
    {
        var key = Issue();
        var signature = key.Signature.ToArray();
        signature[17] ^= 0x01;

        Assert.Equal(HostKeyProblem.BadSignature, Verify(RoundTrip(key with { Signature = signature })).Problem);
    }

    [Fact]
    public void A_key_of_another_authority_is_from_an_unknown_authority()
    {
        using var other = LicensingAuthority.Create(Path.Combine(_directory, "other"));
        var key = RoundTrip(other.Issue("k-other", WindowsGroup, "Contoso Ltd", Now));

        var check = Verify(key);

        Assert.Equal(HostKeyProblem.UnknownAuthority, check.Problem);
        Assert.Contains(other.Public.Fingerprint, check.Reason);
        Assert.Contains("does not trust", check.Reason);
        Assert.True(Verify(key, trusted: [_trusted, TrustedAuthority.Load(Path.Combine(_directory, "other", "authority.pub"))]).IsValid);
    }

    [Fact]
    public void Another_authority_cannot_pass_its_key_off_as_the_trusted_ones()
    {
        using var other = LicensingAuthority.Create(Path.Combine(_directory, "forger"));
        // The forger names the trusted authority and signs that content with its own key.
        var forged = new HostKey("k-forged", WindowsGroup, "Mallory", Now, null, 1000, _trusted.Fingerprint, []);
        forged = forged with { Signature = other.Sign(forged.CanonicalBytes()) };

        Assert.Equal(HostKeyProblem.BadSignature, Verify(RoundTrip(forged)).Problem);
    }

    [Fact]
    public void A_node_that_trusts_no_authority_says_so()
    {
        var check = Verify(Issue(), trusted: []);
        Assert.Equal(HostKeyProblem.UnknownAuthority, check.Problem);
        Assert.Contains("trusts no authority", check.Reason);
    }

    [Fact]
    public void An_expired_key_is_refused_with_its_expiry()
    {
        var key = RoundTrip(Issue(expires: Now.AddSeconds(-1)));

        var check = Verify(key);

        Assert.Equal(HostKeyProblem.Expired, check.Problem);
        Assert.Contains("expired at 2025-06-01T11:59:59Z", check.Reason);
        Assert.True(HostKeyCheck.Verify(key, [_trusted], Catalog, Server2025, Now.AddSeconds(-2)).IsValid);
    }

    [Fact]
    public void A_key_of_a_group_the_catalogue_does_not_know_is_refused()
    {
        var check = Verify(RoundTrip(Issue(group: "Windows Server 2030 volume licence")));

        Assert.Equal(HostKeyProblem.UnknownGroup, check.Problem);
        Assert.Contains("unknown group \"Windows Server 2030 volume licence\"", check.Reason);
        Assert.Contains(WindowsGroup, check.Reason);
    }

    [Fact]
    public void A_key_whose_group_cannot_be_hosted_on_the_host_os_is_refused()
    {
        var check = Verify(RoundTrip(Issue()), Catalog.FindHostOs("Windows Server 2012 R2"));

        Assert.Equal(HostKeyProblem.NotHostable, check.Problem);
        Assert.Contains("cannot be hosted on Windows Server 2012 R2", check.Reason);
    }

    [Fact]
    public void The_canonical_form_is_the_documented_eight_lines()
    {
        var key = new HostKey("k-1", WindowsGroup, "Contoso Ltd", new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), null, 12,
            "0123456789abcdef0123456789abcdef", []);

        Assert.Equal(
            "kmscluster-host-key/1\nkeyId:k-1\ngroup:Windows Server 2025 volume licence\norganisation:Contoso Ltd\n" +
            "issuedAt:2025-01-02T03:04:05Z\nexpiresAt:\nmaxHosts:12\nauthority:0123456789abcdef0123456789abcdef",
            Encoding.UTF8.GetString(key.CanonicalBytes()));
    }

    [Fact]
    public void Issue_times_are_whole_seconds_in_utc()
    {
        var key = _authority.Issue("k-time", WindowsGroup, "Contoso", new DateTimeOffset(2025, 1, 2, 5, 4, 5, 678, TimeSpan.FromHours(2)));
        Assert.Equal(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), key.IssuedAt);
        Assert.Contains("\"issuedAt\": \"2025-01-02T03:04:05Z\"", key.ToJson());
    }

    public static TheoryData<string, string> MalformedKeys => new()
    {
        { "not json", "not a host key document" },
        { """{"format":"kmscluster-host-key/2"}""", "format \"kmscluster-host-key/2\" is not kmscluster-host-key/1" },
        { Replace("\"keyId\": \"k-1\"", "\"keyId\": \"K 1\""), "keyId \"K 1\" may hold only" },
        { Replace("\"issuedAt\": \"2025-01-02T03:04:05Z\"", "\"issuedAt\": \"2025-01-02T03:04:05.5Z\""), "issuedAt \"2025-01-02T03:04:05.5Z\" is not a UTC time" },
        { Replace("\"organisation\": \"Contoso\"", "\"organisation\": \"Con\\ntoso\""), "organisation must be 1 to 200 characters without control characters" },
        { Replace("\"maxHosts\": 12", "\"maxHosts\": 0"), "maxHosts 0 is not from 1 to 100000" },
        { Replace("\"maxHosts\": 12", "\"maxHosts\": 12, \"colour\": \"blue\""), "not a host key document" },
        { Replace("\"signature\": \"AAAA\"", "\"signature\": \"not base64!\""), "signature is not base64" },
        { Replace("\"authority\": \"0123456789abcdef0123456789abcdef\"", "\"authority\": \"xyz\""), "is not a key fingerprint" },
        { Replace("\"group\": \"G\",", ""), "group is missing" },
        { Replace("\"maxHosts\": 12", "\"maxHosts\": 12, \"expiresAt\": \"2025-01-01T00:00:00Z\""), "expiresAt 2025-01-01T00:00:00Z is not after issuedAt" },
    };

    private const string WellFormed = """
        {
          "format": "kmscluster-host-key/1",
          "keyId": "k-1",
          "group": "G",
          "organisation": "Contoso",
          "issuedAt": "2025-01-02T03:04:05Z",
          "maxHosts": 12,
          "authority": "0123456789abcdef0123456789abcdef",
          "signature": "AAAA"
        }
        """;

    private static string Replace(string find, string replace)
    {
        Assert.Contains(find, WellFormed);
        return WellFormed.Replace(find, replace);
    }

    [Fact]
    public void The_well_formed_sample_parses()
    {
        Assert.Equal("k-1", HostKey.Parse(WellFormed, "sample").KeyId);
    }

    [Theory]
    [MemberData(nameof(MalformedKeys))]
    public void A_malformed_key_file_is_refused_with_what_is_wrong(string json, string reason)
    {
        var path = Write(json);
        var error = Assert.Throws<HostKeyFormatException>(() => HostKey.Load(path));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void A_missing_key_file_is_refused_with_its_path()
    {
        var path = Path.Combine(_directory, "nope.json");
        var error = Assert.Throws<HostKeyFormatException>(() => HostKey.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("cannot read", error.Message);
    }

    [Fact]
    public void An_authority_directory_holds_a_private_key_only_its_owner_reads_and_a_public_key()
    {
        var directory = Path.Combine(_directory, "authority");
        var privateKey = Path.Combine(directory, "authority.key");
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(privateKey));
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", File.ReadAllText(Path.Combine(directory, "authority.pub")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(privateKey));
        }

        // Loaded again, the authority issues keys the same public key verifies.
        using var loaded = LicensingAuthority.Load(directory);
        Assert.Equal(_trusted.Fingerprint, loaded.Public.Fingerprint);
        Assert.True(Verify(RoundTrip(loaded.Issue("k-again", WindowsGroup, "Contoso", Now))).IsValid);
    }

    [Fact]
    public void An_authority_is_never_created_over_an_existing_one()
    {
        var error = Assert.Throws<LicensingException>(() => LicensingAuthority.Create(Path.Combine(_directory, "authority")));
        Assert.Contains("already holds an authority key", error.Message);
    }

    [Fact]
    public void A_private_key_is_not_accepted_as_a_trusted_authority()
    {
        var error = Assert.Throws<LicensingException>(() => TrustedAuthority.Load(Path.Combine(_directory, "authority", "authority.key")));
        Assert.Contains("not a public key", error.Message);
    }

    public void Dispose()
    {
        _authority.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
