using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using KmsCluster.Actors.Gateway;
using KmsCluster.Actors.Windows;

namespace KmsCluster.Actors.Grants;

/// <summary>
/// Where a window's grants and revocations reach every node's gateway: in a cluster, one distributed pub-sub
/// topic per application (each node's gateway subscribes; a window publishes once and the mediators deliver to
/// every node); without a cluster (tests of a lone actor system), the event stream. Also names the nodes that may
/// hold a grant, whose gateways must confirm a revocation.
/// </summary>
public abstract class GrantTopic
{
    public static GrantTopic For(ActorSystem system) =>
        system.Settings.ProviderClass.Contains("Cluster", StringComparison.Ordinal)
            ? new ClusterTopic(system)
            : new LocalTopic(system);

    /// <summary>This node, as gateways name it in <see cref="WindowProtocol.GrantsRevoked"/>.</summary>
    public abstract string SelfNode { get; }

    /// <summary>The nodes whose gateways may receive a grant published now (unreachable ones included).</summary>
    public abstract IReadOnlyCollection<string> Nodes { get; }

    public abstract void Subscribe(Guid applicationId, IActorRef gateway);

    public abstract void Publish(Guid applicationId, object message);

    /// <summary>Publishes a revocation, and in a cluster also sends it to the gateway of every member directly: a
    /// node whose subscription has not yet reached this node's mediator (it joined a moment ago) cannot hold a
    /// grant from here, but it must still confirm, or the revocation would wait out the whole lease.</summary>
    public abstract void Revoke(WindowProtocol.RevokeGrants revoke);

    private static string TopicOf(Guid applicationId) => "window-grants-" + applicationId.ToString("N");

    private sealed class ClusterTopic(ActorSystem system) : GrantTopic
    {
        private readonly Cluster _cluster = Cluster.Get(system);
        private readonly IActorRef _mediator = DistributedPubSub.Get(system).Mediator;

        public override string SelfNode => _cluster.SelfAddress.ToString();

        public override IReadOnlyCollection<string> Nodes =>
            _cluster.State.Members.Where(m => m.Status is not (MemberStatus.Down or MemberStatus.Removed))
                .Select(m => m.Address.ToString()).ToArray();

        public override void Subscribe(Guid applicationId, IActorRef gateway) =>
            _mediator.Tell(new Subscribe(TopicOf(applicationId), gateway));

        public override void Publish(Guid applicationId, object message) =>
            _mediator.Tell(new Publish(TopicOf(applicationId), message));

        public override void Revoke(WindowProtocol.RevokeGrants revoke)
        {
            Publish(revoke.ApplicationId, revoke);
            foreach (var node in Nodes)
            {
                system.ActorSelection($"{node}/user/{ContactGateways.ActorName(revoke.ApplicationId)}").Tell(revoke);
            }
        }
    }

    private sealed class LocalTopic(ActorSystem system) : GrantTopic
    {
        public override string SelfNode { get; } = ((ExtendedActorSystem)system).Provider.DefaultAddress.ToString();

        public override IReadOnlyCollection<string> Nodes => [SelfNode];

        // Every gateway of the system hears every window's messages and keeps those of its application.
        public override void Subscribe(Guid applicationId, IActorRef gateway)
        {
            system.EventStream.Subscribe(gateway, typeof(WindowProtocol.WindowGrant));
            system.EventStream.Subscribe(gateway, typeof(WindowProtocol.RevokeGrants));
        }

        public override void Publish(Guid applicationId, object message) => system.EventStream.Publish(message);

        public override void Revoke(WindowProtocol.RevokeGrants revoke) => Publish(revoke.ApplicationId, revoke);
    }
}
