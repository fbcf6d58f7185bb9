using Akka.Actor;

namespace KmsCluster.Actors.Gateway;

/// <summary>
/// The node's gateways as one actor reference, so they can be registered in the actor registry: a
/// <see cref="ContactSubmission"/> told to it goes straight to its application's gateway in the teller's thread
/// (a dictionary lookup, no extra actor hop and no allocation); anything else is a dead letter.
/// </summary>
public sealed class ContactGatewaysRef(ContactGateways gateways, IActorRefProvider provider, ActorPath path) : MinimalActorRef
{
    public override ActorPath Path { get; } = path;

    public override IActorRefProvider Provider { get; } = provider;

    public static ContactGatewaysRef Start(ActorSystem system, IActorRef windowRegion, IEnumerable<Guid> applicationIds,
        GatewaySettings settings, TimeProvider time)
    {
        var provider = ((ExtendedActorSystem)system).Provider;
        return new ContactGatewaysRef(ContactGateways.Start(system, windowRegion, applicationIds, settings, time), provider,
            provider.TempPath());
    }

    public ContactGateways Gateways => gateways;

    protected override void TellInternal(object message, IActorRef sender)
    {
        if (message is ContactSubmission submission)
        {
            gateways.Submit(submission);
        }
        else
        {
            Provider.DeadLetters.Tell(message, sender);
        }
    }
}
