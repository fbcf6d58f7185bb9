namespace KmsCluster.Actors.Serialization;

/// <summary>Marker for every message and persisted type that <see cref="KmsSerializer"/> writes.</summary>
public interface IKmsMessage;
