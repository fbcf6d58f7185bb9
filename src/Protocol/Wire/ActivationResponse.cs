using System.Text;

namespace KmsCluster.Protocol.Wire;

/// <summary>The host's answer to an <see cref="ActivationRequest"/>.</summary>
/// <param name="ClientMachineId">The CMID of the request, echoed.</param>
/// <param name="HostId">The identity of the node that answered.</param>
/// <param name="HostName">The node's name, at most 255 UTF-8 bytes.</param>
/// <param name="HostTime">The host's clock when the contact was recorded.</param>
/// <param name="CurrentCount">Unique machines in the window, this client included.</param>
/// <param name="Threshold">The count this product needs on this host.</param>
/// <param name="Activated">CurrentCount reached Threshold.</param>
/// <param name="ValidUntil">End of the activation's validity; null when not activated.</param>
/// <param name="ActivationIntervalMinutes">When not activated, retry after this many minutes.</param>
/// <param name="RenewalIntervalMinutes">When activated, renew after this many minutes.</param>
public readonly record struct ActivationResponse(
    Guid ClientMachineId,
    Guid HostId,
    string HostName,
    DateTimeOffset HostTime,
    ushort CurrentCount,
    ushort Threshold,
    bool Activated,
    DateTimeOffset? ValidUntil,
    uint ActivationIntervalMinutes,
    uint RenewalIntervalMinutes) : IFrameBody
{
    static MessageType IFrameBody.Type => MessageType.ActivationResponse;

    private const int FixedSize = 16 + 16 + 8 + 2 + 2 + 1 + 8 + 4 + 4 + 1;
    private const byte ActivatedFlag = 0x01;

    int IFrameBody.BodyLength => FixedSize + Names.ByteCount(HostName, ProtocolConstants.MaxNameBytes, nameof(HostName));

    void IFrameBody.WriteBody(Span<byte> body)
    {
        var writer = new BodyWriter(body);
        writer.WriteGuid(ClientMachineId);
        writer.WriteGuid(HostId);
        writer.WriteTime(HostTime);
        writer.WriteUInt16(CurrentCount);
        writer.WriteUInt16(Threshold);
        writer.WriteByte(Activated ? ActivatedFlag : (byte)0);
        writer.WriteTime(ValidUntil);
        writer.WriteUInt32(ActivationIntervalMinutes);
        writer.WriteUInt32(RenewalIntervalMinutes);
        writer.WriteByte((byte)Encoding.UTF8.GetByteCount(HostName));
        writer.WriteUtf8(HostName);
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out ActivationResponse response, out string error)
    {
        response = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadGuid(out var cmid) || !reader.TryReadGuid(out var hostId) ||
            !reader.TryReadTime(out var hostTime, zeroIsNull: false) ||
            !reader.TryReadUInt16(out var count) || !reader.TryReadUInt16(out var threshold) ||
            !reader.TryReadByte(out var flags) || !reader.TryReadTime(out var validUntil, zeroIsNull: true) ||
            !reader.TryReadUInt32(out var activationInterval) || !reader.TryReadUInt32(out var renewalInterval) ||
            !reader.TryReadByte(out var nameLength))
        {
            error = "response body truncated or holds an out-of-range time";
            return false;
        }
        if ((flags & ~ActivatedFlag) != 0)
        {
            error = $"unknown flag bits 0x{flags:x2}";
            return false;
        }
        if (reader.Remaining != nameLength)
        {
            error = $"host name length {nameLength} does not match the {reader.Remaining} bytes left in the body";
            return false;
        }
        if (!reader.TryReadText(nameLength, out var hostName))
        {
            error = "host name is not valid UTF-8 text";
            return false;
        }
        response = new ActivationResponse(cmid, hostId, hostName, hostTime!.Value, count, threshold,
            (flags & ActivatedFlag) != 0, validUntil, activationInterval, renewalInterval);
        error = string.Empty;
        return true;
    }
}
