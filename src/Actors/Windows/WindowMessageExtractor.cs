using Akka.Cluster.Sharding;

namespace KmsCluster.Actors.Windows;

/// <summary>Routes <see cref="IWithApplicationId"/> messages to the window entity of their application.
/// Windows are few and each is busy, so every window is its own shard and the cluster can place each on
/// its own node.</summary>
public sealed class WindowMessageExtractor : IMessageExtractor
{
    public static string EntityIdOf(Guid applicationId) => applicationId.ToString("N");

    public string? EntityId(object message) =>
        message is IWithApplicationId m ? EntityIdOf(m.ApplicationId) : null;

    public object EntityMessage(object message) => message;

    public string ShardId(object message) => EntityId(message) ?? throw new ArgumentException(
        $"{message.GetType().Name} is not a window message", nameof(message));

    public string ShardId(string entityId, object? messageHint = null) => entityId;
}
