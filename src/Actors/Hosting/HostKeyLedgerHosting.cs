using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using KmsCluster.Actors.Licensing;

namespace KmsCluster.Actors.Hosting;

/// <summary>Marker key under which the host key ledger shard region is registered in the <see cref="ActorRegistry"/>.</summary>
public sealed class HostKeyLedgerRegion;

public static class HostKeyLedgerHosting
{
    public const string ShardTypeName = "host-key-ledger";

    /// <summary>Registers the sharded <see cref="HostKeyLedgerActor"/> entities (under <see cref="HostKeyLedgerRegion"/>),
    /// one per host key in the whole cluster. Their messages, events and snapshots go through the KMS serializer,
    /// which <see cref="ActivationWindowsHosting.AddActivationWindows"/> registers.</summary>
    public static AkkaConfigurationBuilder AddHostKeyLedgers(this AkkaConfigurationBuilder builder,
        LedgerSettings settings, TimeProvider time, string? role = null)
    {
        builder.WithShardRegion<HostKeyLedgerRegion>(ShardTypeName,
            keyId => HostKeyLedgerActor.Props(keyId, settings, time),
            new LedgerMessageExtractor(),
            new ShardOptions
            {
                Role = role,
                RememberEntities = false,
                StateStoreMode = StateStoreMode.DData,
                // A ledger is asked at a node's start and by the admin API: let idle ones go.
                PassivateIdleEntityAfter = TimeSpan.FromMinutes(2),
                // Finish the write in flight before a ledger moves or passivates.
                HandOffStopMessage = LedgerProtocol.StopLedger.Instance,
            });
        return builder;
    }
}
