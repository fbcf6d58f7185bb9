using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Connection;

/// <summary>The host's answer to one request: a response, or an error frame.</summary>
public readonly record struct ActivationResult(ActivationResponse Response, ErrorResponse Error, bool IsError)
{
    public static ActivationResult Of(in ActivationResponse response) => new(response, default, false);

    public static ActivationResult Of(in ErrorResponse error) => new(default, error, true);

    public override string ToString() => IsError
        ? $"error {Error.Code.Name()} ({(ushort)Error.Code}): {Error.Message}"
        : $"count {Response.CurrentCount}/{Response.Threshold}, activated {Response.Activated}";
}

/// <summary>The connection failed or the host broke the protocol; no answer will come for the request.</summary>
public sealed class KmsConnectionException(string message, Exception? inner = null) : Exception(message, inner);
