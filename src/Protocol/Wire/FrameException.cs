namespace KmsCluster.Protocol.Wire;

/// <summary>The byte stream broke the envelope rules (bad magic, negative or oversized length): the reader
/// cannot find the next frame, so the connection must be answered with an error and closed.</summary>
public sealed class FrameException(ErrorCode code, uint requestId, string message) : Exception(message)
{
    public ErrorCode Code { get; } = code;

    /// <summary>The request id of the broken frame when its envelope got that far, else 0.</summary>
    public uint RequestId { get; } = requestId;
}
