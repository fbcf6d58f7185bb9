using KmsCluster.Client.Verification;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Connection;

/// <summary>The host's answer to one request: a response, or an error frame. A v2 response also carries what a
/// client needs to check it (<see cref="Signed"/>, see <see cref="ActivationVerifier"/>).</summary>
public readonly record struct ActivationResult(ActivationResponse Response, ErrorResponse Error, bool IsError)
{
    /// <summary>A v2 answer's signed content, proof and certificate; null for a v1 (unsigned) answer or an error.</summary>
    public SignedAnswer? Signed { get; init; }

    public static ActivationResult Of(in ActivationResponse response) => new(response, default, false);

    public static ActivationResult Of(in ErrorResponse error) => new(default, error, true);

    /// <summary>The answer a host's frame carries: an activation response (v1, or v2 with its proof) or an error frame.</summary>
    /// <exception cref="FrameException">the frame is neither, or its body does not decode.</exception>
    public static ActivationResult FromFrame(in Frame frame)
    {
        Span<byte> scratch = stackalloc byte[ProtocolConstants.MaxBodySize];
        var body = frame.BodySpan(scratch);
        if (frame.Type == MessageType.ActivationResponse && frame.Version == ProtocolConstants.SignedVersion &&
            SignedActivationResponse.TryRead(body, out var signed, out var content, out _))
        {
            return Of(content!.Response) with { Signed = new SignedAnswer(0, content, signed, null) };
        }
        if (frame.Type == MessageType.ActivationResponse && frame.Version == ProtocolConstants.Version &&
            ActivationResponse.TryRead(body, out var response, out _))
        {
            return Of(response);
        }
        if (frame.Type == MessageType.Error && ErrorResponse.TryRead(body, out var error, out _))
        {
            return Of(error);
        }
        throw new FrameException(ErrorCode.MalformedRequest, frame.RequestId,
            $"unexpected or undecodable frame (type {(byte)frame.Type}, version {frame.Version})");
    }

    public override string ToString() => IsError
        ? $"error {Error.Code.Name()} ({(ushort)Error.Code}): {Error.Message}"
        : $"count {Response.CurrentCount}/{Response.Threshold}, activated {Response.Activated}";
}

/// <summary>The connection failed or the host broke the protocol; no answer will come for the request.</summary>
public sealed class KmsConnectionException(string message, Exception? inner = null) : Exception(message, inner);
