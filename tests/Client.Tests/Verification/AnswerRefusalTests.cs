using KmsCluster.Client.Connection;
using KmsCluster.Client.Verification;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Signing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Tests.Verification;

/// <summary>Each answer that is genuine but for the wrong thing (host, key, machine, product, time) is refused with
/// exactly its reason, and the verifier's clock is the one it is given, not the machine's.</summary>
public sealed class AnswerRefusalTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Product Windows = ProductCatalog.Default.FindProduct("windows-11-pro")!;
    private static readonly string WindowsGroup = ProductCatalog.Default.KeyGroups.First(g => g.Covers(Windows)).Name;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kms-refusal-" + Guid.NewGuid().ToString("N"));
    private readonly LicensingAuthority _authority;
    private readonly HostSigningKey _host = HostSigningKey.CreateEphemeral();
    private readonly Guid _hostId = Guid.NewGuid();
    private readonly Guid _machine = Guid.NewGuid();

    public AnswerRefusalTests()
    {
        _authority = LicensingAuthority.Create(Path.Combine(_directory, "a"));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private ActivationVerifier VerifierAt(DateTimeOffset now) => new([_authority.Public], time: new FixedClock(now));

    /// <summary>A one-answer batch signed by the host, certified for <paramref name="certifiedHost"/> and
    /// <paramref name="certifiedKey"/> from <see cref="Now"/> for a day.</summary>
    private SignedAnswer Answer(string keyId = "key-a", string certifiedKey = "key-a", Guid? certifiedHost = null, Guid? product = null)
    {
        var key = _authority.Issue(certifiedKey, WindowsGroup, "Test", Now.AddDays(-1));
        var certificate = _authority.Certify(key, certifiedHost ?? _hostId, _host.PublicKey, Now, TimeSpan.FromDays(1));
        var content = new SignedAnswerContent(77, product ?? Windows.Id, keyId,
            new ActivationResponse(_machine, _hostId, "kms-a", Now, 25, 25, true, Now.AddDays(180), 120, 10080));
        var bytes = content.Encode();
        var tree = MerkleTree.Build([MerkleTree.LeafHash(bytes)]);
        var signature = _host.Sign(SignedActivationResponse.SignedMessage(tree.Root));
        return new SignedAnswer(77, content, new SignedActivationResponse(bytes, 0, 1, tree.Path(0), signature), certificate);
    }

    private static ActivationRequest RequestFor(Guid machine, Guid product) =>
        new(machine, Windows.Application.Id, product, 25, LicenseState.Licensed, 0, false, "pc-1", Now);

    [Fact]
    public void A_verifier_needs_a_trusted_authority()
    {
        Assert.Throws<ArgumentNullException>(() => new ActivationVerifier(null!));
        var error = Assert.Throws<ArgumentException>(() => new ActivationVerifier([]));
        Assert.StartsWith("a verifier needs at least one trusted authority key", error.Message);
    }

    [Fact]
    public void A_genuine_answer_is_valid_from_its_issue_to_just_before_its_expiry_by_the_given_clock()
    {
        Assert.Equal(AnswerVerdict.Valid, VerifierAt(Now).Verify(Answer()));
        Assert.Equal(AnswerVerdict.Valid, VerifierAt(Now.AddDays(1).AddSeconds(-1)).Verify(Answer()));
        Assert.Equal((true, "valid"), (AnswerVerdict.Valid.IsValid, AnswerVerdict.Valid.Reason));
    }

    [Fact]
    public void At_its_expiry_the_certificate_no_longer_holds()
    {
        Assert.Equal(AnswerVerdict.Refused("the host certificate expired at 2025-06-02T12:00:00Z"), VerifierAt(Now.AddDays(1)).Verify(Answer()));
    }

    [Fact]
    public void A_clock_up_to_four_hours_behind_the_authority_still_accepts_a_new_certificate()
    {
        Assert.True(VerifierAt(Now.AddHours(-4)).Verify(Answer()).IsValid);
        Assert.Equal(AnswerVerdict.Refused("the host certificate is not valid before 2025-06-01T12:00:00Z"),
            VerifierAt(Now.AddHours(-4).AddSeconds(-1)).Verify(Answer()));
    }

    [Fact]
    public void An_answer_without_its_certificate_is_refused_naming_the_key()
    {
        Assert.Equal(AnswerVerdict.Refused("no host certificate for key key-a came with the answer"),
            VerifierAt(Now).Verify(Answer() with { Certificate = null }));
    }

    [Fact]
    public void A_replayed_answer_names_both_nonces()
    {
        Assert.Equal(AnswerVerdict.Refused($"wrong nonce: the answer carries nonce {77:x32}, not the {78:x32} sent (a replayed answer)"),
            VerifierAt(Now).Verify(Answer() with { SentNonce = 78 }));
    }

    [Fact]
    public void A_path_that_cannot_fit_its_leaf_is_a_bad_proof()
    {
        var answer = Answer();
        Assert.Equal(AnswerVerdict.Refused("bad proof: the audit path does not fit leaf 3 of a batch of 1"),
            VerifierAt(Now).Verify(answer with { Proof = answer.Proof with { LeafIndex = 3 } }));
    }

    [Fact]
    public void An_answer_from_another_host_than_the_certified_one_is_refused()
    {
        var other = Guid.NewGuid();
        Assert.Equal(AnswerVerdict.Refused($"the answer comes from host {_hostId}, the certificate is for host {other}"),
            VerifierAt(Now).Verify(Answer(certifiedHost: other)));
    }

    [Fact]
    public void An_answer_under_another_key_than_the_certified_one_is_refused()
    {
        Assert.Equal(AnswerVerdict.Refused("the answer names key key-a, the certificate is for key key-b"),
            VerifierAt(Now).Verify(Answer(certifiedKey: "key-b")));
    }

    [Fact]
    public void A_product_the_client_does_not_know_cannot_be_checked()
    {
        var unknown = Guid.NewGuid();
        Assert.Equal(AnswerVerdict.Refused($"product {unknown} is not in this client's catalogue, so its key group cannot be checked"),
            VerifierAt(Now).Verify(Answer(product: unknown)));
    }

    [Fact]
    public void A_certificate_whose_group_the_client_does_not_know_is_of_another_group()
    {
        var key = _authority.Issue("key-a", "A group of another catalogue", "Test", Now.AddDays(-1));
        var answer = Answer();
        var certificate = _authority.Certify(key, _hostId, _host.PublicKey, Now, TimeSpan.FromDays(1));

        Assert.Equal(AnswerVerdict.Refused($"certificate of another group: A group of another catalogue does not cover {Windows.Slug}"),
            VerifierAt(Now).Verify(answer with { Certificate = certificate }));
    }

    [Fact]
    public void An_answer_checked_against_its_request_must_be_for_its_machine_and_product()
    {
        var result = ActivationResult.Of(Answer().Content.Response) with { Signed = Answer() };
        var verifier = VerifierAt(Now);

        Assert.Equal(AnswerVerdict.Valid, verifier.Verify(result, RequestFor(_machine, Windows.Id)));
        Assert.Equal(AnswerVerdict.Valid, verifier.Verify(result));
        Assert.Equal(AnswerVerdict.Refused("the answer is for another machine or product than the request"),
            verifier.Verify(result, RequestFor(Guid.NewGuid(), Windows.Id)));
        Assert.Equal(AnswerVerdict.Refused("the answer is for another machine or product than the request"),
            verifier.Verify(result, RequestFor(_machine, Guid.NewGuid())));
    }

    [Fact]
    public void An_error_answer_is_refused_with_the_hosts_code_and_message()
    {
        Assert.Equal(AnswerVerdict.Refused("refused by the host: server-busy: busy"),
            VerifierAt(Now).Verify(ActivationResult.Of(new ErrorResponse(ErrorCode.ServerBusy, 0, "busy"))));
    }

    [Fact]
    public void An_unsigned_answer_is_refused_saying_why_it_cannot_be_trusted()
    {
        Assert.Equal(AnswerVerdict.Refused("unsigned: the host answered without a signature (protocol v1); it cannot be told from an impostor"),
            VerifierAt(Now).Verify(ActivationResult.Of(Answer().Content.Response)));
    }

    public void Dispose()
    {
        _authority.Dispose();
        _host.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
