using System.Buffers;
using System.Buffers.Binary;

namespace KmsCluster.Protocol.Wire;

/// <summary>Writes whole frames (envelope + body) onto an <see cref="IBufferWriter{T}"/> such as a PipeWriter.</summary>
public static class FrameWriter
{
    public static void WriteRequest(IBufferWriter<byte> output, uint requestId, in ActivationRequest request)
    {
        var bodyLength = request.BodyLength;
        var frame = Begin(output, MessageType.ActivationRequest, requestId, bodyLength);
        request.WriteBody(frame[ProtocolConstants.HeaderSize..]);
        output.Advance(ProtocolConstants.HeaderSize + bodyLength);
    }

    public static void WriteResponse(IBufferWriter<byte> output, uint requestId, in ActivationResponse response)
    {
        var bodyLength = response.BodyLength;
        var frame = Begin(output, MessageType.ActivationResponse, requestId, bodyLength);
        response.WriteBody(frame[ProtocolConstants.HeaderSize..]);
        output.Advance(ProtocolConstants.HeaderSize + bodyLength);
    }

    public static void WriteError(IBufferWriter<byte> output, uint requestId, in ErrorResponse error)
    {
        var bodyLength = error.BodyLength;
        var frame = Begin(output, MessageType.Error, requestId, bodyLength);
        error.WriteBody(frame[ProtocolConstants.HeaderSize..]);
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

    private static Span<byte> Begin(IBufferWriter<byte> output, MessageType type, uint requestId, int bodyLength)
    {
        if (bodyLength > ProtocolConstants.MaxBodySize)
        {
            throw new ArgumentException($"a {type} body of {bodyLength} bytes exceeds the frame limit");
        }
        var frame = output.GetSpan(ProtocolConstants.HeaderSize + bodyLength);
        WriteHeader(frame, ProtocolConstants.Version, type, requestId, bodyLength);
        return frame;
    }
}
