namespace KmsCluster.Protocol.Wire;

/// <summary>Error codes of an <see cref="MessageType.Error"/> frame (table in docs/protocol.md).</summary>
public enum ErrorCode : ushort
{
    UnsupportedVersion = 1,
    MalformedRequest = 2,
    UnknownProduct = 3,
    ProductNotAllowed = 4,
    ClockSkew = 5,
    ServerBusy = 6,
    WindowUnavailable = 7,
    InternalError = 8,
    FrameTooLarge = 9,
    UnknownMessageType = 10,
    NoHostKey = 11,
    HostNotCertified = 12,
}

public static class ErrorCodes
{
    /// <summary>True when the same request may succeed later or on another host.</summary>
    public static bool IsRetryable(this ErrorCode code) =>
        code is ErrorCode.ServerBusy or ErrorCode.WindowUnavailable or ErrorCode.InternalError;

    /// <summary>Stable lower-case name used in logs, JSON and the CLI.</summary>
    public static string Name(this ErrorCode code) => code switch
    {
        ErrorCode.UnsupportedVersion => "unsupported-version",
        ErrorCode.MalformedRequest => "malformed-request",
        ErrorCode.UnknownProduct => "unknown-product",
        ErrorCode.ProductNotAllowed => "product-not-allowed",
        ErrorCode.ClockSkew => "clock-skew",
        ErrorCode.ServerBusy => "server-busy",
        ErrorCode.WindowUnavailable => "window-unavailable",
        ErrorCode.InternalError => "internal-error",
        ErrorCode.FrameTooLarge => "frame-too-large",
        ErrorCode.UnknownMessageType => "unknown-message-type",
        ErrorCode.NoHostKey => "no-host-key",
        ErrorCode.HostNotCertified => "host-not-certified",
        _ => "error-" + ((ushort)code).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
