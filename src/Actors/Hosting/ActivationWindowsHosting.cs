using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using KmsCluster.Actors.Serialization;
using KmsCluster.Actors.Windows;

namespace KmsCluster.Actors.Hosting;

/// <summary>Marker key under which the window shard region is registered in the <see cref="ActorRegistry"/>.</summary>
public sealed class ActivationWindowRegion;

public static class ActivationWindowsHosting
{
    public const string ShardTypeName = "activation-window";

    /// <summary>Registers the KmsCluster serializer and the sharded <see cref="ActivationWindowActor"/> entities
    /// (under <see cref="ActivationWindowRegion"/>). Start the node's gateways in front of the region with
    /// <see cref="ContactGateways.Start"/> once the actor system runs.</summary>
    public static AkkaConfigurationBuilder AddActivationWindows(this AkkaConfigurationBuilder builder,
        WindowSettings windowSettings, TimeProvider time, string? role = null)
    {
        builder.WithCustomSerializer("kms", KmsSerializer.BoundTypes, system => new KmsSerializer(system));
        builder.WithShardRegion<ActivationWindowRegion>(ShardTypeName,
            entityId => ActivationWindowActor.Props(entityId, windowSettings, time),
            new WindowMessageExtractor(),
            new ShardOptions
            {
                Role = role,
                RememberEntities = false,
                StateStoreMode = StateStoreMode.DData,
                // Windows are few and always busy: keep them in memory until their node leaves.
                PassivateIdleEntityAfter = TimeSpan.Zero,
                ShouldPassivateIdleEntities = false,
                // Finish the write in flight before a window moves (default would be PoisonPill).
                HandOffStopMessage = WindowProtocol.StopWindow.Instance,
            });
        return builder;
    }
}
