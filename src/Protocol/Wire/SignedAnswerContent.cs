using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Protocol.Wire;

/// <summary>
/// What a version 2 host signs about one answer (a leaf of its batch's Merkle tree): the request's nonce, the
/// product, the host key whose certificate covers it, and every field of the version 1 response.
/// Layout: docs/protocol.md, "Signed answer content".
/// </summary>
/// <param name="Nonce">The request's nonce, echoed.</param>
/// <param name="ProductId">The product the request named.</param>
/// <param name="KeyId">The host key whose host certificate covers the product (the certificate the host sent).</param>
/// <param name="Response">The answer's fields, as version 1 sends them.</param>
public sealed record SignedAnswerContent(UInt128 Nonce, Guid ProductId, string KeyId, ActivationResponse Response)
{
    private const int FixedSize = 16 + 16 + 16 + 16 + 8 + 2 + 2 + 1 + 8 + 4 + 4 + 1 + 1;
    private const byte ActivatedFlag = 0x01;

    /// <summary>The content's bytes, which its leaf hash covers.</summary>
    /// <exception cref="ArgumentException">a host name or key id the protocol cannot carry.</exception>
    public byte[] Encode()
    {
        if (!HostKey.IsValidKeyId(KeyId)) throw new ArgumentException($"\"{KeyId}\" is not a key id", nameof(KeyId));
        var r = Response;
        var nameBytes = Names.ByteCount(r.HostName, ProtocolConstants.MaxNameBytes, nameof(r.HostName));
        var bytes = new byte[FixedSize + KeyId.Length + nameBytes];
        var writer = new BodyWriter(bytes);
        writer.WriteUInt128(Nonce);
        writer.WriteGuid(r.ClientMachineId);
        writer.WriteGuid(ProductId);
        writer.WriteGuid(r.HostId);
        writer.WriteTime(r.HostTime);
        writer.WriteUInt16(r.CurrentCount);
        writer.WriteUInt16(r.Threshold);
        writer.WriteByte(r.Activated ? ActivatedFlag : (byte)0);
        writer.WriteTime(r.ValidUntil);
        writer.WriteUInt32(r.ActivationIntervalMinutes);
        writer.WriteUInt32(r.RenewalIntervalMinutes);
        writer.WriteByte((byte)KeyId.Length);
        writer.WriteUtf8(KeyId);
        writer.WriteByte((byte)nameBytes);
        writer.WriteUtf8(r.HostName);
        return bytes;
    }

    public static bool TryRead(ReadOnlySpan<byte> content, out SignedAnswerContent? answer, out string error)
    {
        answer = null;
        var reader = new BodyReader(content);
        if (!reader.TryReadUInt128(out var nonce) || !reader.TryReadGuid(out var cmid) || !reader.TryReadGuid(out var product) ||
            !reader.TryReadGuid(out var hostId) || !reader.TryReadTime(out var hostTime, zeroIsNull: false) ||
            !reader.TryReadUInt16(out var count) || !reader.TryReadUInt16(out var threshold) ||
            !reader.TryReadByte(out var flags) || !reader.TryReadTime(out var validUntil, zeroIsNull: true) ||
            !reader.TryReadUInt32(out var activationInterval) || !reader.TryReadUInt32(out var renewalInterval) ||
            !reader.TryReadByte(out var keyIdLength))
        {
            error = "signed answer content truncated or holds an out-of-range time";
            return false;
        }
        if ((flags & ~ActivatedFlag) != 0)
        {
            error = $"unknown flag bits 0x{flags:x2}";
            return false;
        }
        if (!reader.TryReadText(keyIdLength, out var keyId) || !HostKey.IsValidKeyId(keyId))
        {
            error = "the key id is not a-z, 0-9 and '-' (1 to 64 characters)";
            return false;
        }
        if (!reader.TryReadByte(out var nameLength) || reader.Remaining != nameLength)
        {
            error = "host name length does not match the bytes left in the content";
            return false;
        }
        if (!reader.TryReadText(nameLength, out var hostName))
        {
            error = "host name is not valid UTF-8 text";
            return false;
        }
        answer = new SignedAnswerContent(nonce, product, keyId, new ActivationResponse(cmid, hostId, hostName, hostTime!.Value,
            count, threshold, (flags & ActivatedFlag) != 0, validUntil, activationInterval, renewalInterval));
        error = string.Empty;
        return true;
    }

    /// <summary>The nonce as 32 lower-case hex digits.</summary>
    public static string FormatNonce(UInt128 nonce) => nonce.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
}
