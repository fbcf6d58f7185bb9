using System.Buffers;
using System.Buffers.Binary;

namespace KmsCluster.Protocol.Wire;

/// <summary>Writes whole frames (envelope + body) onto an <see cref="IBufferWriter{T}"/> such as a PipeWriter.</summary>
public static class FrameWriter
{
    /// <summary>Writes one frame. A message the protocol cannot carry (a name over 255 bytes, a control
    /// character) throws <see cref="ArgumentException"/> before a byte is written. Generic so that the message
    /// structs are not boxed. <paramref name="version"/>: the envelope's version when it is not the body's own
    /// (0), as for an error answering a request of another version.</summary>
    public static void Write<T>(IBufferWriter<byte> output, uint requestId, in T body, byte version = 0) where T : IFrameBody
    {
        var bodyLength = body.BodyLength;
        if (bodyLength > ProtocolConstants.MaxBodySize)
        {
            throw new ArgumentException($"a {T.Type} body of {bodyLength} bytes exceeds the frame limit");
        }
        var frame = output.GetSpan(ProtocolConstants.HeaderSize + bodyLength);
        WriteHeader(frame, version == 0 ? T.Version : version, T.Type, requestId, bodyLength);
        body.WriteBody(frame.Slice(ProtocolConstants.HeaderSize, bodyLength));
        output.Advance(ProtocolConstants.HeaderSize + bodyLength);
    }

    /// <summary>Writes just an envelope; for tests and tools that build odd frames on purpose.</summary>
    public static void WriteHeader(Span<byte> destination, byte version, MessageType type, uint requestId, int bodyLength)
    {
        destination[0] = ProtocolConstants.Magic0;
        destination[1] = ProtocolConstants.Magic1;
        destination[2] = version;
        destination[3] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], requestId);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], bodyLength);
    }
}
