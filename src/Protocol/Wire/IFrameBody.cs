namespace KmsCluster.Protocol.Wire;

/// <summary>A message that travels as the body of one frame: <see cref="ActivationRequest"/>,
/// <see cref="ActivationResponse"/> and <see cref="ErrorResponse"/>. The members are internal, so only this
/// protocol's messages are frame bodies; <see cref="FrameWriter.Write{T}"/> is generic over it, so the
/// structs are never boxed.</summary>
public interface IFrameBody
{
    /// <summary>Byte 3 of the envelope.</summary>
    internal static abstract MessageType Type { get; }

    /// <summary>Byte 2 of the envelope: the version whose layout the body has (an error's body is the same in all).</summary>
    internal static virtual byte Version => ProtocolConstants.Version;

    /// <summary>Encoded size; throws <see cref="ArgumentException"/> for a message the protocol cannot carry,
    /// before anything is written.</summary>
    internal int BodyLength { get; }

    internal void WriteBody(Span<byte> body);
}
