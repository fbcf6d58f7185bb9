using KmsCluster.Client.Connection;
using KmsCluster.Client.Verification;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Signing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Tests.Verification;

/// <summary>What a client refuses: each way an answer can be unsigned, forged, replayed or badly certified.</summary>
public sealed class ActivationVerifierTests : IDisposable
{
    private static readonly Product Windows = ProductCatalog.Default.FindProduct("windows-11-pro")!;
    private static readonly string WindowsGroup = ProductCatalog.Default.KeyGroups.First(g => g.Covers(Windows)).Name;
    private static readonly string OtherGroup = ProductCatalog.Default.KeyGroups.First(g => !g.Covers(Windows)).Name;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kms-verifier-" + Guid.NewGuid().ToString("N"));
    private readonly LicensingAuthority _authority;
    private readonly LicensingAuthority _otherAuthority;
    private readonly HostSigningKey _host = HostSigningKey.CreateEphemeral();
    private readonly Guid _hostId = Guid.NewGuid();

    public ActivationVerifierTests()
    {
        _authority = LicensingAuthority.Create(Path.Combine(_directory, "a"));
        _otherAuthority = LicensingAuthority.Create(Path.Combine(_directory, "b"));
    }

    private ActivationVerifier Verifier => new([_authority.Public]);

    /// <summary>Answer <paramref name="index"/> of a batch of <paramref name="count"/>, signed by the host under a
    /// certificate of <paramref name="authority"/> for <paramref name="group"/>.</summary>
    private SignedAnswer Answer(UInt128 nonce, int count = 5, int index = 2, LicensingAuthority? authority = null, string? group = null,
        DateTimeOffset? issued = null, TimeSpan? validity = null, HostSigningKey? signer = null)
    {
        var now = issued ?? DateTimeOffset.UtcNow;
        var key = (authority ?? _authority).Issue("key-a", group ?? WindowsGroup, "Test", now.AddDays(-1));
        var certificate = (authority ?? _authority).Certify(key, _hostId, _host.PublicKey, now, validity);
        var contents = Enumerable.Range(0, count).Select(i => new SignedAnswerContent(i == index ? nonce : (UInt128)i, Windows.Id, "key-a",
            new ActivationResponse(Guid.NewGuid(), _hostId, "kms-a", now, 25, 25, true, now.AddDays(180), 120, 10080)).Encode()).ToArray();
        var tree = MerkleTree.Build(contents.Select(c => MerkleTree.LeafHash(c)).ToList());
        var signature = (signer ?? _host).Sign(SignedActivationResponse.SignedMessage(tree.Root));
        SignedAnswerContent.TryRead(contents[index], out var content, out _);
        return new SignedAnswer(nonce, content!, new SignedActivationResponse(contents[index], (uint)index, (uint)count, tree.Path(index), signature), certificate);
    }

    [Fact]
    public void A_genuine_answer_of_any_batch_position_is_valid()
    {
        for (var count = 1; count <= 9; count++)
        {
            for (var index = 0; index < count; index++)
            {
                Assert.Equal(AnswerVerdict.Valid, Verifier.Verify(Answer(77, count, index)));
            }
        }
    }

    [Fact]
    public void An_unsigned_v1_answer_or_an_error_is_never_an_activation()
    {
        var v1 = ActivationResult.Of(new ActivationResponse(Guid.NewGuid(), _hostId, "fake", DateTimeOffset.UtcNow, 25, 25, true,
            DateTimeOffset.UtcNow.AddDays(180), 120, 10080));
        Assert.StartsWith("unsigned", Verifier.Verify(v1).Reason);
        Assert.False(Verifier.Verify(ActivationResult.Of(new ErrorResponse(ErrorCode.ServerBusy, 0, "busy"))).IsValid);
    }

    [Fact]
    public void An_answer_replayed_to_another_nonce_is_refused() =>
        Assert.StartsWith("wrong nonce", Verifier.Verify(Answer(77) with { SentNonce = 78 }).Reason);

    [Fact]
    public void A_tampered_path_content_or_signature_is_refused()
    {
        var answer = Answer(77);
        var path = answer.Proof.Path.ToArray();
        path[5] ^= 1;
        Assert.StartsWith("forged", Verifier.Verify(answer with { Proof = answer.Proof with { Path = path } }).Reason);
        var other = Answer(77, signer: HostSigningKey.CreateEphemeral());
        Assert.StartsWith("forged", Verifier.Verify(other).Reason);
        Assert.StartsWith("bad proof", Verifier.Verify(answer with { Proof = answer.Proof with { LeafIndex = 9 } }).Reason);
    }

    [Fact]
    public void A_certificate_of_another_authority_group_or_expired_is_refused()
    {
        Assert.StartsWith("unknown authority", Verifier.Verify(Answer(77, authority: _otherAuthority)).Reason);
        Assert.StartsWith("certificate of another group", Verifier.Verify(Answer(77, group: OtherGroup)).Reason);
        var expired = Answer(77, issued: DateTimeOffset.UtcNow.AddDays(-10), validity: TimeSpan.FromDays(2));
        Assert.Contains("expired", Verifier.Verify(expired).Reason);
    }

    [Fact]
    public void A_saved_answer_reads_back_and_verifies()
    {
        var answer = Answer(77);
        var copy = SavedAnswer.Parse(SavedAnswer.ToJson(answer, "127.0.0.1:1688"), "saved.json");
        Assert.Equal(AnswerVerdict.Valid, Verifier.Verify(copy));
    }

    public void Dispose()
    {
        _authority.Dispose();
        _otherAuthority.Dispose();
        _host.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
