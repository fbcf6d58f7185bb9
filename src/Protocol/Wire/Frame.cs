using System.Buffers;

namespace KmsCluster.Protocol.Wire;

/// <summary>One complete frame: the envelope fields and the body bytes, still in the reader's buffer.</summary>
/// <remarks>The body is only valid until the buffer it came from is advanced past it.</remarks>
public readonly struct Frame(byte version, MessageType type, uint requestId, ReadOnlySequence<byte> body)
{
    public byte Version { get; } = version;
    public MessageType Type { get; } = type;
    public uint RequestId { get; } = requestId;
    public ReadOnlySequence<byte> Body { get; } = body;

    /// <summary>The body as one span: the buffer's own memory when it is contiguous, else a copy into
    /// <paramref name="scratch"/> (which must hold <see cref="ProtocolConstants.MaxBodySize"/> bytes).</summary>
    public ReadOnlySpan<byte> BodySpan(Span<byte> scratch)
    {
        if (Body.IsSingleSegment)
        {
            return Body.FirstSpan;
        }
        var length = (int)Body.Length;
        Body.CopyTo(scratch);
        return scratch[..length];
    }
}
