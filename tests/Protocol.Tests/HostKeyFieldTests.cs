using System.Text;
using System.Text.Json.Nodes;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Protocol.Tests;

/// <summary>The form of each host key field, at the edges of what is allowed: a key one character, one second
/// or one host past a limit is refused naming the field; one exactly at it is read.</summary>
public sealed class HostKeyFieldTests
{
    private const string Source = "key.json";

    private static JsonObject WellFormed() => new()
    {
        ["format"] = "kmscluster-host-key/1",
        ["keyId"] = "k-1",
        ["group"] = "G",
        ["organisation"] = "Contoso",
        ["issuedAt"] = "2025-01-02T03:04:05Z",
        ["authority"] = "0123456789abcdef0123456789abcdef",
        ["signature"] = "AAAA",
    };

    private static HostKey Parse(Action<JsonObject> change)
    {
        var document = WellFormed();
        change(document);
        return HostKey.Parse(document.ToJsonString(), Source);
    }

    private static string Refused(Action<JsonObject> change) =>
        Assert.Throws<HostKeyFormatException>(() => Parse(change)).Message;

    [Fact]
    public void Every_field_is_read_as_written()
    {
        var key = Parse(d => { d["expiresAt"] = "2026-01-02T03:04:05Z"; d["maxHosts"] = 12; });

        Assert.Equal(("k-1", "G", "Contoso", 12, "0123456789abcdef0123456789abcdef"), (key.KeyId, key.Group, key.Organisation, key.MaxHosts!.Value, key.Authority));
        Assert.Equal(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), key.IssuedAt);
        Assert.Equal(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), key.ExpiresAt);
        Assert.Equal(new byte[] { 0, 0, 0 }, key.Signature);
        Assert.Equal(12, key.HostLimit);
    }

    [Fact]
    public void A_host_key_file_that_cannot_be_read_is_named_as_the_host_key()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kms-missing-{Guid.NewGuid():N}.json");
        var error = Assert.Throws<HostKeyFormatException>(() => HostKey.Load(path));
        Assert.StartsWith($"{path}: cannot read the host key: ", error.Message);
    }

    [Fact]
    public void A_json_null_document_is_refused_as_empty()
    {
        var error = Assert.Throws<HostKeyFormatException>(() => HostKey.Parse("null", Source));
        Assert.Equal("key.json: not a host key document (empty)", error.Message);
    }

    [Theory]
    [InlineData("keyId")]
    [InlineData("group")]
    [InlineData("organisation")]
    [InlineData("issuedAt")]
    [InlineData("authority")]
    [InlineData("signature")]
    public void A_missing_or_blank_field_is_named(string field)
    {
        Assert.Equal($"key.json: {field} is missing", Refused(d => d.Remove(field)));
        Assert.Equal($"key.json: {field} is missing", Refused(d => d[field] = "  "));
    }

    [Fact]
    public void A_missing_format_is_refused()
    {
        Assert.Equal("key.json: format \"\" is not kmscluster-host-key/1", Refused(d => d.Remove("format")));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("z")]
    [InlineData("0")]
    [InlineData("9")]
    [InlineData("-")]
    [InlineData("abcdefghijklmnopqrstuvwxyz-0123456789")]
    public void Key_ids_of_lower_case_letters_digits_and_hyphens_are_read(string keyId)
    {
        Assert.Equal(keyId, Parse(d => d["keyId"] = keyId).KeyId);
        Assert.True(HostKey.IsValidKeyId(keyId));
    }

    [Theory]
    [InlineData("A")]
    [InlineData("k_1")]
    [InlineData("k.1")]
    [InlineData("k/1")]
    [InlineData("`")]
    [InlineData("{")]
    [InlineData(":")]
    [InlineData("é")]
    public void Key_ids_with_other_characters_are_refused(string keyId)
    {
        Assert.Equal($"key.json: keyId \"{keyId}\" may hold only a-z, 0-9 and '-' (1 to 64 characters)", Refused(d => d["keyId"] = keyId));
        Assert.False(HostKey.IsValidKeyId(keyId));
    }

    [Fact]
    public void A_key_id_may_be_64_characters_not_65()
    {
        Assert.True(HostKey.IsValidKeyId(new string('a', 64)));
        Assert.False(HostKey.IsValidKeyId(new string('a', 65)));
        Assert.False(HostKey.IsValidKeyId(""));
        Assert.Contains("may hold only", Refused(d => d["keyId"] = new string('a', 65)));
    }

    [Fact]
    public void A_group_or_organisation_may_be_200_characters_not_201()
    {
        Assert.Equal(200, Parse(d => d["group"] = new string('g', 200)).Group.Length);
        Assert.Equal(200, Parse(d => d["organisation"] = new string('o', 200)).Organisation.Length);
        Assert.Equal("key.json: group must be 1 to 200 characters without control characters or surrounding spaces",
            Refused(d => d["group"] = new string('g', 201)));
        Assert.True(HostKey.IsValidText("x"));
        Assert.False(HostKey.IsValidText(" "));
        Assert.False(HostKey.IsValidText("a\tb"));
    }

    [Theory]
    [InlineData(" Contoso")]
    [InlineData("Contoso ")]
    [InlineData("Con\u0007toso")]
    public void An_organisation_with_surrounding_spaces_or_control_characters_is_refused(string organisation)
    {
        Assert.Equal("key.json: organisation must be 1 to 200 characters without control characters or surrounding spaces",
            Refused(d => d["organisation"] = organisation));
    }

    [Theory]
    [InlineData("2025-01-02 03:04:05Z")]
    [InlineData("2025-01-02T03:04:05")]
    [InlineData("2025-01-02T03:04:05+00:00")]
    [InlineData("2025-13-02T03:04:05Z")]
    public void Times_not_in_the_one_utc_form_are_refused(string time)
    {
        Assert.Equal($"key.json: expiresAt \"{time}\" is not a UTC time as yyyy-MM-ddTHH:mm:ssZ", Refused(d => d["expiresAt"] = time));
    }

    [Fact]
    public void Expiry_must_be_after_issue_by_at_least_a_second()
    {
        Assert.Equal("key.json: expiresAt 2025-01-02T03:04:05Z is not after issuedAt 2025-01-02T03:04:05Z",
            Refused(d => d["expiresAt"] = "2025-01-02T03:04:05Z"));
        Assert.NotNull(Parse(d => d["expiresAt"] = "2025-01-02T03:04:06Z").ExpiresAt);
        Assert.Null(Parse(_ => { }).ExpiresAt);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100_000)]
    public void A_host_limit_from_1_to_100000_is_read(int maxHosts)
    {
        var key = Parse(d => d["maxHosts"] = maxHosts);
        Assert.Equal((maxHosts, maxHosts), (key.MaxHosts, key.HostLimit));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(100_001)]
    public void A_host_limit_outside_1_to_100000_is_refused(int maxHosts)
    {
        Assert.Equal($"key.json: maxHosts {maxHosts} is not from 1 to 100000", Refused(d => d["maxHosts"] = maxHosts));
    }

    [Theory]
    [InlineData("0123456789ABCDEF0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcde")]
    [InlineData("0123456789abcdef0123456789abcdef0")]
    [InlineData("0123456789abcdef0123456789abcdeg")]
    public void An_authority_that_is_not_32_lower_case_hex_digits_is_refused(string authority)
    {
        Assert.Equal($"key.json: authority \"{authority}\" is not a key fingerprint (32 lower-case hex digits)",
            Refused(d => d["authority"] = authority));
    }

    [Fact]
    public void Json_that_is_not_a_document_names_the_source()
    {
        var error = Assert.Throws<HostKeyFormatException>(() => HostKey.Parse("[1]", Source));
        Assert.StartsWith("key.json: not a host key document: ", error.Message);
    }

    [Fact]
    public void The_document_leaves_out_absent_fields_and_writes_signatures_unescaped()
    {
        // 0xFB 0xFF 0xBF is "+/+/" in base64: the two characters a JSON encoder would escape by default.
        var key = new HostKey("k-1", "G", "Contoso", new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero),
            new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), null, "0123456789abcdef0123456789abcdef", [0xFB, 0xFF, 0xBF]);

        var json = key.ToJson();

        Assert.Equal("""
            {
              "format": "kmscluster-host-key/1",
              "keyId": "k-1",
              "group": "G",
              "organisation": "Contoso",
              "issuedAt": "2025-01-02T03:04:05Z",
              "expiresAt": "2026-01-02T03:04:05Z",
              "authority": "0123456789abcdef0123456789abcdef",
              "signature": "+/+/"
            }

            """.ReplaceLineEndings("\n"), json.ReplaceLineEndings("\n"));
        Assert.Equal(key with { Signature = [] }, HostKey.Parse(json, Source) with { Signature = [] });
    }

    [Fact]
    public void The_canonical_form_writes_an_expiry_and_leaves_an_absent_limit_empty()
    {
        var key = new HostKey("k-1", "G", "O", new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero),
            new DateTimeOffset(2026, 1, 2, 5, 4, 5, TimeSpan.FromHours(2)), null, "ab", []);

        Assert.Equal("kmscluster-host-key/1\nkeyId:k-1\ngroup:G\norganisation:O\nissuedAt:2025-01-02T03:04:05Z\n" +
            "expiresAt:2026-01-02T03:04:05Z\nmaxHosts:\nauthority:ab", Encoding.UTF8.GetString(key.CanonicalBytes()));
        Assert.Equal(6, key.HostLimit);
        Assert.Equal((6, 9, 100_000), (HostKey.DefaultMaxHosts, HostKey.MaxReactivations, HostKey.MaxHostsLimit));
    }
}
