namespace KmsCluster.Protocol.Wire;

/// <summary>Byte 3 of the envelope.</summary>
public enum MessageType : byte
{
    ActivationRequest = 1,
    ActivationResponse = 2,
    Error = 3,
}
