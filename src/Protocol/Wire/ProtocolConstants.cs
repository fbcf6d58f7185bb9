namespace KmsCluster.Protocol.Wire;

/// <summary>Fixed numbers of the KmsCluster wire protocol (docs/protocol.md).</summary>
public static class ProtocolConstants
{
    /// <summary>The first two bytes of every frame: ASCII "KC".</summary>
    public const byte Magic0 = 0x4B;
    public const byte Magic1 = 0x43;

    /// <summary>Protocol version 1: unsigned answers.</summary>
    public const byte Version = 1;

    /// <summary>Protocol version 2: a nonce in every request, answers signed in batches (docs/protocol.md).</summary>
    public const byte SignedVersion = 2;

    /// <summary>Envelope: magic (2), version (1), type (1), request id (4), body length (4).
    /// Its layout is the same in every protocol version, so a host can answer a frame of a version it
    /// does not speak and stay in step with the stream.</summary>
    public const int HeaderSize = 12;

    /// <summary>Largest whole frame (envelope + body) either side accepts.</summary>
    public const int MaxFrameSize = 4096;

    public const int MaxBodySize = MaxFrameSize - HeaderSize;

    /// <summary>Workstation and host names are UTF-8 with a one-byte length.</summary>
    public const int MaxNameBytes = 255;

    /// <summary>Error messages are UTF-8 with a two-byte length, capped so the frame stays small.</summary>
    public const int MaxErrorMessageBytes = 1024;

    /// <summary>Default TCP port of a KMS host.</summary>
    public const int DefaultPort = 1688;
}
