using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Signing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Verification;

/// <summary>The verdict on one answer: valid, or the one-line reason it is not.</summary>
public sealed record AnswerVerdict(bool IsValid, string Reason)
{
    public static readonly AnswerVerdict Valid = new(true, "valid");

    public static AnswerVerdict Refused(string reason) => new(false, reason);
}

/// <summary>
/// Decides whether a client may believe an answer: it must be a signed (v2) answer to the nonce the client sent,
/// whose Merkle audit path leads to a root the host certificate's key signed, and the certificate must be signed by
/// an authority the client trusts, be in force, be for the answer's host and key, and be of a key group that covers
/// the product. Anything else (an unsigned v1 answer, a forgery, a replay) is refused with the reason.
/// </summary>
public sealed class ActivationVerifier
{
    private readonly IReadOnlyList<TrustedAuthority> _authorities;
    private readonly ProductCatalog _catalog;
    private readonly TimeProvider _time;

    /// <param name="authorities">The licensing authority keys the client trusts (authority.pub).</param>
    /// <param name="catalog">Which products each key group covers (default: the built-in catalogue).</param>
    public ActivationVerifier(IReadOnlyList<TrustedAuthority> authorities, ProductCatalog? catalog = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(authorities);
        if (authorities.Count == 0) throw new ArgumentException("a verifier needs at least one trusted authority key", nameof(authorities));
        _authorities = authorities;
        _catalog = catalog ?? ProductCatalog.Default;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Checks an answer to a request: an error frame is never an activation, an unsigned answer is refused.
    /// With <paramref name="request"/>, the answer must also be for its machine and product.</summary>
    public AnswerVerdict Verify(in ActivationResult result, ActivationRequest? request = null)
    {
        if (result.IsError)
        {
            return AnswerVerdict.Refused($"refused by the host: {result.Error.Code.Name()}: {result.Error.Message}");
        }
        if (result.Signed is not { } signed)
        {
            return AnswerVerdict.Refused("unsigned: the host answered without a signature (protocol v1); it cannot be told from an impostor");
        }
        if (request is { } asked && (asked.ClientMachineId != signed.Content.Response.ClientMachineId || asked.ProductId != signed.Content.ProductId))
        {
            return AnswerVerdict.Refused("the answer is for another machine or product than the request");
        }
        return Verify(signed);
    }

    /// <summary>Checks a signed answer, in this order: nonce, proof and signature, certificate, its authority,
    /// its validity, host id, key and group.</summary>
    public AnswerVerdict Verify(SignedAnswer answer)
    {
        var content = answer.Content;
        if (content.Nonce != answer.SentNonce)
        {
            return AnswerVerdict.Refused($"wrong nonce: the answer carries nonce {SignedAnswerContent.FormatNonce(content.Nonce)}, not the {SignedAnswerContent.FormatNonce(answer.SentNonce)} sent (a replayed answer)");
        }
        if (answer.Certificate is not { } certificate)
        {
            return AnswerVerdict.Refused($"no host certificate for key {content.KeyId} came with the answer");
        }
        var proof = answer.Proof;
        var root = MerkleTree.RootFrom(MerkleTree.LeafHash(proof.Content.Span), proof.LeafIndex, proof.LeafCount, proof.Path.Span);
        if (root is null)
        {
            return AnswerVerdict.Refused($"bad proof: the audit path does not fit leaf {proof.LeafIndex} of a batch of {proof.LeafCount}");
        }
        if (!HostSigningKey.Verify(certificate.HostPublicKey, SignedActivationResponse.SignedMessage(root), proof.Signature.Span))
        {
            return AnswerVerdict.Refused("forged: the signature is not the certified host key's over the answer's Merkle root (altered answer, path or signature)");
        }
        var authority = _authorities.FirstOrDefault(a => a.Fingerprint == certificate.Authority);
        if (authority is null)
        {
            return AnswerVerdict.Refused($"unknown authority: the host certificate is signed by authority {certificate.Authority}, which is not trusted here");
        }
        if (certificate.Problem(authority, _time.GetUtcNow()) is { } problem)
        {
            return AnswerVerdict.Refused(problem);
        }
        if (certificate.HostId != content.Response.HostId)
        {
            return AnswerVerdict.Refused($"the answer comes from host {content.Response.HostId}, the certificate is for host {certificate.HostId}");
        }
        if (certificate.KeyId != content.KeyId)
        {
            return AnswerVerdict.Refused($"the answer names key {content.KeyId}, the certificate is for key {certificate.KeyId}");
        }
        if (!_catalog.TryGetProduct(content.ProductId, out var product))
        {
            return AnswerVerdict.Refused($"product {content.ProductId} is not in this client's catalogue, so its key group cannot be checked");
        }
        var group = _catalog.FindKeyGroup(certificate.Group);
        return group is not null && group.Covers(product)
            ? AnswerVerdict.Valid
            : AnswerVerdict.Refused($"certificate of another group: {certificate.Group} does not cover {product.Slug}");
    }
}
