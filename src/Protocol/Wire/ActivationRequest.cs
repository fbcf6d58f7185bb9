using System.Text;

namespace KmsCluster.Protocol.Wire;

/// <summary>What a KMS client sends: who it is, what it wants activated and the state it is in.</summary>
/// <param name="ClientMachineId">The client machine id (CMID) that the host counts.</param>
/// <param name="ApplicationId">The application whose contact window counts this client (Windows, Office).</param>
/// <param name="ProductId">The edition the client runs; the host's catalogue decides its threshold.</param>
/// <param name="RequiredCount">The count the client believes it needs (N policy). Logged; the host decides.</param>
/// <param name="LicenseState">The licence state the client is in.</param>
/// <param name="MinutesLeft">Minutes left in that state.</param>
/// <param name="IsVirtualMachine">The client runs in a virtual machine.</param>
/// <param name="Workstation">The client's name, at most 255 UTF-8 bytes, no control characters.</param>
/// <param name="ClientTime">The client's clock (UTC, millisecond precision).</param>
public readonly record struct ActivationRequest(
    Guid ClientMachineId,
    Guid ApplicationId,
    Guid ProductId,
    ushort RequiredCount,
    LicenseState LicenseState,
    uint MinutesLeft,
    bool IsVirtualMachine,
    string Workstation,
    DateTimeOffset ClientTime) : IFrameBody
{
    static MessageType IFrameBody.Type => MessageType.ActivationRequest;

    private const int FixedSize = 16 + 16 + 16 + 8 + 2 + 1 + 4 + 1 + 1;
    private const byte VirtualMachineFlag = 0x01;

    int IFrameBody.BodyLength => FixedSize + Names.ByteCount(Workstation, ProtocolConstants.MaxNameBytes, nameof(Workstation));

    void IFrameBody.WriteBody(Span<byte> body)
    {
        var writer = new BodyWriter(body);
        writer.WriteGuid(ClientMachineId);
        writer.WriteGuid(ApplicationId);
        writer.WriteGuid(ProductId);
        writer.WriteTime(ClientTime);
        writer.WriteUInt16(RequiredCount);
        writer.WriteByte((byte)LicenseState);
        writer.WriteUInt32(MinutesLeft);
        writer.WriteByte(IsVirtualMachine ? VirtualMachineFlag : (byte)0);
        writer.WriteByte((byte)Encoding.UTF8.GetByteCount(Workstation));
        writer.WriteUtf8(Workstation);
    }

    /// <summary>Decodes a version 1 request body; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out ActivationRequest request, out string error)
    {
        request = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadGuid(out var cmid) || !reader.TryReadGuid(out var application) ||
            !reader.TryReadGuid(out var product))
        {
            error = "request body truncated in its ids";
            return false;
        }
        if (!reader.TryReadTime(out var clientTime, zeroIsNull: false))
        {
            error = "client time missing or out of range";
            return false;
        }
        if (!reader.TryReadUInt16(out var required) || !reader.TryReadByte(out var state) ||
            !reader.TryReadUInt32(out var minutesLeft) || !reader.TryReadByte(out var flags) ||
            !reader.TryReadByte(out var nameLength))
        {
            error = "request body truncated";
            return false;
        }
        if (!LicenseStates.IsDefined(state))
        {
            error = $"unknown licence state {state}";
            return false;
        }
        if ((flags & ~VirtualMachineFlag) != 0)
        {
            error = $"unknown flag bits 0x{flags:x2}";
            return false;
        }
        if (reader.Remaining != nameLength)
        {
            error = $"workstation name length {nameLength} does not match the {reader.Remaining} bytes left in the body";
            return false;
        }
        if (cmid == Guid.Empty)
        {
            error = "client machine id is empty";
            return false;
        }
        if (!reader.TryReadText(nameLength, out var workstation))
        {
            error = "workstation name is not valid UTF-8 text";
            return false;
        }
        request = new ActivationRequest(cmid, application, product, required, (LicenseState)state, minutesLeft,
            (flags & VirtualMachineFlag) != 0, workstation, clientTime!.Value);
        error = string.Empty;
        return true;
    }
}

internal static class Names
{
    public static int ByteCount(string value, int max, string field)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        if (count > max)
        {
            throw new ArgumentException($"{field} is {count} UTF-8 bytes; the protocol allows {max}", field);
        }
        // The reader refuses such names; refuse them before they reach the wire. (A plain loop, as the reader's:
        // span.ContainsAnyInRange allocated 96 bytes a call here, twice for every frame written.)
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException($"{field} holds a control character, which the protocol does not allow", field);
            }
        }
        return count;
    }
}
