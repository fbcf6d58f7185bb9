namespace KmsCluster.Protocol.Wire;

/// <summary>Byte 3 of the envelope.</summary>
public enum MessageType : byte
{
    ActivationRequest = 1,
    ActivationResponse = 2,
    Error = 3,

    /// <summary>Version 2, host → client: a host certificate, sent before the first signed answer that needs it.</summary>
    HostCertificate = 4,
}
