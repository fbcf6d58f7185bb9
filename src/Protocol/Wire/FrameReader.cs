using System.Buffers;
using System.Buffers.Binary;

namespace KmsCluster.Protocol.Wire;

/// <summary>Finds frames in a byte stream (BedrockFramework's <c>TryParseMessage</c> shape).</summary>
public static class FrameReader
{
    /// <summary>
    /// Reads one frame from the start of <paramref name="input"/>.
    /// Returns false when the frame is not complete yet: <paramref name="consumed"/> is the start and
    /// <paramref name="examined"/> the end of the input, so the caller waits for more bytes.
    /// Returns true with the frame and both positions just past it.
    /// Throws <see cref="FrameException"/> when the envelope is invalid; no later frame can be trusted then.
    /// The body is not decoded here: an unknown version or type is the caller's decision.
    /// </summary>
    public static bool TryParse(in ReadOnlySequence<byte> input, out SequencePosition consumed,
        out SequencePosition examined, out Frame frame)
    {
        consumed = input.Start;
        examined = input.End;
        frame = default;

        Span<byte> header = stackalloc byte[ProtocolConstants.HeaderSize];
        var available = (int)Math.Min(input.Length, ProtocolConstants.HeaderSize);
        input.Slice(0, available).CopyTo(header);

        // Check the magic as soon as its bytes arrive: a stray HTTP request or TLS hello fails at once.
        if ((available >= 1 && header[0] != ProtocolConstants.Magic0) ||
            (available >= 2 && header[1] != ProtocolConstants.Magic1))
        {
            throw new FrameException(ErrorCode.MalformedRequest, 0,
                "not a KmsCluster frame: bad magic bytes (expected \"KC\")");
        }
        if (available < ProtocolConstants.HeaderSize)
        {
            return false;
        }

        var version = header[2];
        var type = (MessageType)header[3];
        var requestId = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        var bodyLength = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        if (bodyLength < 0)
        {
            throw new FrameException(ErrorCode.MalformedRequest, requestId,
                $"negative body length {bodyLength}");
        }
        if (bodyLength > ProtocolConstants.MaxBodySize)
        {
            throw new FrameException(ErrorCode.FrameTooLarge, requestId,
                $"frame of {ProtocolConstants.HeaderSize + (long)bodyLength} bytes exceeds the {ProtocolConstants.MaxFrameSize}-byte limit");
        }
        var frameLength = ProtocolConstants.HeaderSize + bodyLength;
        if (input.Length < frameLength)
        {
            return false;
        }

        var body = input.Slice(ProtocolConstants.HeaderSize, bodyLength);
        frame = new Frame(version, type, requestId, body);
        consumed = examined = body.End;
        return true;
    }
}
