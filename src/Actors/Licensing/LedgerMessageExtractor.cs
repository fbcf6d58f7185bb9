using Akka.Cluster.Sharding;

namespace KmsCluster.Actors.Licensing;

/// <summary>Routes <see cref="IWithHostKeyId"/> messages to the ledger entity of their key. Keys are few, so each
/// ledger is its own shard.</summary>
public sealed class LedgerMessageExtractor : IMessageExtractor
{
    public string? EntityId(object message) => message is IWithHostKeyId m ? m.KeyId : null;

    public object EntityMessage(object message) => message;

    public string ShardId(object message) => EntityId(message) ?? throw new ArgumentException(
        $"{message.GetType().Name} is not a host key ledger message", nameof(message));

    public string ShardId(string entityId, object? messageHint = null) => entityId;
}
