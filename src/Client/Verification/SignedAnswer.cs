using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Verification;

/// <summary>Everything needed to check one v2 answer, online or later (<see cref="SavedAnswer"/>).</summary>
/// <param name="SentNonce">The nonce the client sent with its request.</param>
/// <param name="Content">The signed content, decoded.</param>
/// <param name="Proof">The answer as it came: content bytes, leaf index, batch size, audit path, signature.</param>
/// <param name="Certificate">The host certificate the connection received for the content's key id; null when none came.</param>
public sealed record SignedAnswer(UInt128 SentNonce, SignedAnswerContent Content, SignedActivationResponse Proof,
    HostCertificate? Certificate);

/// <summary>What a connection learns on the way to its answers: the host certificates sent on it (v2).</summary>
internal sealed class ConnectionCertificates
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, HostCertificate> _byKeyId = new();

    /// <summary>Keeps a certificate frame's certificate; false for any other frame.</summary>
    /// <exception cref="FrameException">a certificate frame that does not decode.</exception>
    public bool TryKeep(in Frame frame)
    {
        if (frame.Type != MessageType.HostCertificate) return false;
        Span<byte> scratch = stackalloc byte[ProtocolConstants.MaxBodySize];
        var body = frame.BodySpan(scratch);
        var certificate = DecodedCertificates.Find(body);
        if (certificate is null)
        {
            if (frame.Version != ProtocolConstants.SignedVersion || !HostCertificateMessage.TryRead(body, out certificate, out _))
            {
                throw new FrameException(ErrorCode.MalformedRequest, frame.RequestId, "undecodable host certificate frame");
            }
            DecodedCertificates.Add(body, certificate!);
        }
        _byKeyId[certificate!.KeyId] = certificate;
        return true;
    }

    /// <summary>The result with the sent nonce and the certificate for its key id filled in.</summary>
    public ActivationResult Complete(in ActivationResult result, UInt128 sentNonce) =>
        result.Signed is { } signed
            ? result with { Signed = signed with { SentNonce = sentNonce, Certificate = _byKeyId.GetValueOrDefault(signed.Content.KeyId) } }
            : result;
}

/// <summary>
/// The certificate frames this process decoded last, by their exact bytes: a client connecting once per request
/// (as KMS clients do) gets the same certificate on every connection, and parsing its JSON each time cost more
/// than the rest of the exchange. Only the form is cached; the verifier still checks every certificate's chain.
/// </summary>
internal static class DecodedCertificates
{
    private const int Capacity = 16;

    private static readonly Lock Gate = new();
    private static readonly List<(byte[] Body, HostCertificate Certificate)> Recent = [];

    public static HostCertificate? Find(ReadOnlySpan<byte> body)
    {
        lock (Gate)
        {
            foreach (var (known, certificate) in Recent)
            {
                if (body.SequenceEqual(known)) return certificate;
            }
        }
        return null;
    }

    public static void Add(ReadOnlySpan<byte> body, HostCertificate certificate)
    {
        lock (Gate)
        {
            if (Recent.Count == Capacity) Recent.RemoveAt(0);
            Recent.Add((body.ToArray(), certificate));
        }
    }
}
