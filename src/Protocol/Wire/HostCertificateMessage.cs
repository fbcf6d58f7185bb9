using System.Text;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Protocol.Wire;

/// <summary>A version 2 host → client message: a host certificate as its JSON document (as
/// host-certificates/&lt;keyId&gt;.json holds it), sent on a connection before the first signed answer whose
/// content names its key id.</summary>
/// <param name="Json">The certificate document, UTF-8.</param>
public readonly record struct HostCertificateMessage(ReadOnlyMemory<byte> Json) : IFrameBody
{
    static MessageType IFrameBody.Type => MessageType.HostCertificate;

    static byte IFrameBody.Version => ProtocolConstants.SignedVersion;

    public static HostCertificateMessage Of(HostCertificate certificate) => new(Encoding.UTF8.GetBytes(certificate.ToJson()));

    int IFrameBody.BodyLength => Json.Length <= ProtocolConstants.MaxBodySize - 2
        ? 2 + Json.Length
        : throw new ArgumentException($"a host certificate of {Json.Length} bytes does not fit a frame");

    void IFrameBody.WriteBody(Span<byte> body)
    {
        var writer = new BodyWriter(body);
        writer.WriteUInt16((ushort)Json.Length);
        writer.WriteBytes(Json.Span);
    }

    /// <summary>Decodes the body and parses the certificate's form (its signature is the verifier's business).</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out HostCertificate? certificate, out string error)
    {
        certificate = null;
        var reader = new BodyReader(body);
        if (!reader.TryReadUInt16(out var length) || reader.Remaining != length || !reader.TryReadText(length, out var json, allowControl: true))
        {
            error = "host certificate body truncated, of the wrong length or not UTF-8";
            return false;
        }
        try
        {
            certificate = HostCertificate.Parse(json, "the host's certificate");
        }
        catch (HostKeyFormatException e)
        {
            error = e.Message;
            return false;
        }
        error = string.Empty;
        return true;
    }
}
