using System.Collections.Frozen;
using Akka.Actor;
using KmsCluster.Actors.Grants;
using KmsCluster.Actors.Windows;
using KmsCluster.Domain;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Actors.Gateway;

/// <summary>This node's gateways, one per application; the socket layer submits contacts here. A contact its
/// gateway's grant covers is answered right here, on the caller's thread; any other goes to the gateway actor.</summary>
public sealed class ContactGateways
{
    private readonly FrozenDictionary<Guid, Gateway> _byApplication;
    private readonly int _flushAt;

    private ContactGateways(IReadOnlyDictionary<Guid, Gateway> byApplication, int flushAt)
    {
        _byApplication = byApplication.ToFrozenDictionary();
        _flushAt = flushAt;
    }

    /// <summary>Starts one gateway per application in front of the window shard region.</summary>
    public static ContactGateways Start(ActorSystem system, IActorRef windowRegion, IEnumerable<Guid> applicationIds,
        GatewaySettings settings, TimeProvider time) =>
        new(applicationIds.ToDictionary(id => id, id =>
        {
            var answers = new GrantedAnswers(time, settings.EffectiveGrants.MaxBufferedContacts);
            var actor = system.ActorOf(ContactGateway.Props(id, windowRegion, settings, answers), ActorName(id));
            return new Gateway(actor, answers);
        }), settings.MaxBatchSize);

    /// <summary>The name of an application's gateway actor, under /user on every node.</summary>
    public static string ActorName(Guid applicationId) => "gateway-" + applicationId.ToString("N");

    /// <summary>The grant an application's gateway holds now, if any.</summary>
    public WindowProtocol.WindowGrant? GrantOf(Guid applicationId) =>
        _byApplication.TryGetValue(applicationId, out var gateway) ? gateway.Answers.Grant : null;

    /// <summary>Sends every contact answered from a grant and waits, at most <paramref name="timeout"/>, until the
    /// windows have journaled them: a node shutting down loses none it could still deliver.</summary>
    public Task DrainAsync(TimeSpan timeout) =>
        Task.WhenAll(_byApplication.Values.Select(async gateway =>
        {
            try
            {
                await gateway.Actor.Ask<AnsweredDrained>(DrainAnswered.Instance, timeout);
            }
            catch (AskTimeoutException)
            {
                // The window is away: what is left stays unsent, as on a crash.
            }
        }));

    /// <summary>Answers <paramref name="contact"/> at once when its gateway's grant covers it: the count and the
    /// host's time to answer with, and the contact follows to the window behind the answer. Else false, and the
    /// caller submits it (the socket layer asks here first, so a granted answer costs no submission object).</summary>
    public bool TryAnswer(Guid applicationId, in ContactRequest contact, out int count, out DateTimeOffset answeredAt)
    {
        if (!_byApplication.TryGetValue(applicationId, out var gateway))
        {
            (count, answeredAt) = (0, default);
            return false;
        }
        return TryAnswer(gateway, contact, out count, out answeredAt);
    }

    public void Submit(ContactSubmission submission)
    {
        if (_byApplication.TryGetValue(submission.ApplicationId, out var gateway))
        {
            if (TryAnswer(gateway, submission.Contact, out var count, out var answeredAt))
            {
                submission.Recorded(answeredAt, count);
                return;
            }
            gateway.Actor.Tell(submission, ActorRefs.NoSender);
        }
        else
        {
            submission.Failed(ErrorCode.UnknownProduct, $"application {submission.ApplicationId} has no window on this host");
        }
    }

    private bool TryAnswer(Gateway gateway, in ContactRequest contact, out int count, out DateTimeOffset answeredAt)
    {
        if (!gateway.Answers.TryAnswer(contact, out count, out answeredAt, out var buffered)) return false;
        if (buffered == _flushAt) gateway.Actor.Tell(FlushAnswered.Instance, ActorRefs.NoSender);
        return true;
    }

    private sealed record Gateway(IActorRef Actor, GrantedAnswers Answers);
}
