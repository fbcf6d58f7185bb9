using System.Text.Json.Nodes;
using KmsCluster.Client.Verification;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Signing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Tests.Verification;

/// <summary>The saved-answer file <c>kms verify</c> reads: written in full, read back the same, and every broken
/// file refused with one line that names it.</summary>
public sealed class SavedAnswerFileTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Product Windows = ProductCatalog.Default.FindProduct("windows-11-pro")!;
    private static readonly string WindowsGroup = ProductCatalog.Default.KeyGroups.First(g => g.Covers(Windows)).Name;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kms-saved-" + Guid.NewGuid().ToString("N"));
    private readonly LicensingAuthority _authority;
    private readonly HostSigningKey _host = HostSigningKey.CreateEphemeral();
    private readonly SignedAnswer _answer;

    public SavedAnswerFileTests()
    {
        _authority = LicensingAuthority.Create(Path.Combine(_directory, "a"));
        var hostId = Guid.NewGuid();
        var key = _authority.Issue("key-a", WindowsGroup, "Test", Now.AddDays(-1));
        var certificate = _authority.Certify(key, hostId, _host.PublicKey, Now);
        var content = new SignedAnswerContent(0xabc, Windows.Id, "key-a",
            new ActivationResponse(Guid.NewGuid(), hostId, "kms-a", Now, 25, 25, true, Now.AddDays(180), 120, 10080));
        var bytes = content.Encode();
        var tree = MerkleTree.Build([MerkleTree.LeafHash(bytes)]);
        _answer = new SignedAnswer(0xabc, content,
            new SignedActivationResponse(bytes, 0, 1, tree.Path(0), _host.Sign(SignedActivationResponse.SignedMessage(tree.Root))), certificate);
    }

    private JsonObject Document() => JsonNode.Parse(SavedAnswer.ToJson(_answer, "kms-a:1688"))!.AsObject();

    private static string Refused(string json) =>
        Assert.Throws<FormatException>(() => SavedAnswer.Parse(json, "saved.json")).Message;

    [Fact]
    public void A_saved_answer_holds_its_server_nonce_answer_and_certificate_indented()
    {
        var json = SavedAnswer.ToJson(_answer, "kms-a:1688");
        var document = JsonNode.Parse(json)!.AsObject();

        Assert.Equal("kmscluster-signed-answer/1", (string?)document["format"]);
        Assert.Equal("kms-a:1688", (string?)document["server"]);
        Assert.Equal("00000000000000000000000000000abc", (string?)document["sentNonce"]);
        Assert.Equal(_answer.Certificate!.CanonicalBytes(), HostCertificate.Parse(document["certificate"]!.ToJsonString(), "c").CanonicalBytes());
        Assert.StartsWith("{\n  \"format\": ", json.ReplaceLineEndings("\n"));
        Assert.EndsWith("}\n", json);
    }

    [Fact]
    public void A_saved_answer_reads_back_the_same()
    {
        var read = SavedAnswer.Parse(SavedAnswer.ToJson(_answer, "kms-a:1688"), "saved.json");

        Assert.Equal(_answer.SentNonce, read.SentNonce);
        Assert.Equal(_answer.Content, read.Content);
        Assert.Equal(_answer.Proof.Content.ToArray(), read.Proof.Content.ToArray());
        Assert.Equal(_answer.Proof.Signature.ToArray(), read.Proof.Signature.ToArray());
        Assert.Equal(_answer.Certificate!.CanonicalBytes(), read.Certificate!.CanonicalBytes());
    }

    [Fact]
    public void An_answer_saved_without_a_certificate_reads_back_without_one()
    {
        var json = SavedAnswer.ToJson(_answer with { Certificate = null }, "kms-a:1688");

        Assert.Null(JsonNode.Parse(json)!["certificate"]);
        Assert.Null(SavedAnswer.Parse(json, "saved.json").Certificate);
    }

    [Fact]
    public void A_file_that_is_not_an_object_or_of_another_format_is_refused_by_name()
    {
        Assert.Equal("saved.json: not a JSON object", Refused("null"));
        Assert.StartsWith("saved.json: not a saved answer: ", Refused("[1]"));
        Assert.StartsWith("saved.json: not a saved answer: ", Refused("{"));
        var other = Document();
        other["format"] = "kmscluster-signed-answer/2";
        Assert.Equal("saved.json: format is not kmscluster-signed-answer/1", Refused(other.ToJsonString()));
    }

    [Theory]
    [InlineData("sentNonce", null)]
    [InlineData("sentNonce", "not hex")]
    [InlineData("sentNonce", "1000000000000000000000000000000000")]
    [InlineData("answer", null)]
    [InlineData("answer", "not base64!")]
    public void A_broken_nonce_or_answer_is_refused_by_name(string field, string? value)
    {
        var document = Document();
        if (value is null) document.Remove(field); else document[field] = value;

        Assert.StartsWith("saved.json: ", Refused(document.ToJsonString()));
        Assert.DoesNotContain("saved.json: saved.json", Refused(document.ToJsonString()));
    }

    [Fact]
    public void An_answer_that_does_not_decode_says_so()
    {
        var document = Document();
        document["answer"] = "AAAA";
        Assert.StartsWith("saved.json: the answer does not decode: ", Refused(document.ToJsonString()));
    }

    [Fact]
    public void A_malformed_certificate_in_the_file_is_refused_by_name()
    {
        var document = Document();
        document["certificate"]!["hostId"] = "not a guid";
        Assert.StartsWith("saved.json: not a saved answer: saved.json: hostId \"not a guid\"", Refused(document.ToJsonString()));
    }

    public void Dispose()
    {
        _authority.Dispose();
        _host.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
