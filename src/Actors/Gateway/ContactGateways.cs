using System.Collections.Frozen;
using Akka.Actor;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Actors.Gateway;

/// <summary>This node's gateways, one per application; the socket layer submits contacts here.</summary>
public sealed class ContactGateways
{
    private readonly FrozenDictionary<Guid, IActorRef> _byApplication;

    public ContactGateways(IReadOnlyDictionary<Guid, IActorRef> byApplication)
    {
        _byApplication = byApplication.ToFrozenDictionary();
    }

    /// <summary>Starts one gateway per application in front of the window shard region.</summary>
    public static ContactGateways Start(ActorSystem system, IActorRef windowRegion, IEnumerable<Guid> applicationIds,
        GatewaySettings settings) =>
        new(applicationIds.ToDictionary(id => id,
            id => system.ActorOf(ContactGateway.Props(id, windowRegion, settings), "gateway-" + id.ToString("N"))));

    public void Submit(ContactSubmission submission)
    {
        if (_byApplication.TryGetValue(submission.ApplicationId, out var gateway))
        {
            gateway.Tell(submission, ActorRefs.NoSender);
        }
        else
        {
            submission.Failed(ErrorCode.UnknownProduct, $"application {submission.ApplicationId} has no window on this host");
        }
    }
}
