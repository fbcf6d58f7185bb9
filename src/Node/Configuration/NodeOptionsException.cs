namespace KmsCluster.Node.Configuration;

/// <summary>A start-up setting is wrong; the message is the one line the operator sees.</summary>
public sealed class NodeOptionsException(string message) : Exception(message);
