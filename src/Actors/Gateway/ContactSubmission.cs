using KmsCluster.Domain;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Actors.Gateway;

/// <summary>One client contact handed to a <see cref="ContactGateway"/>, with the way back to its client.
/// The gateway calls exactly one of the two methods, once.</summary>
public abstract class ContactSubmission(Guid applicationId, ContactRequest contact)
{
    public Guid ApplicationId { get; } = applicationId;

    public ContactRequest Contact { get; } = contact;

    /// <summary>The trace context of the request's span (kms.activate), when it is traced: it goes with the contact
    /// to the window, whose span becomes its child.</summary>
    public TraceContext? Trace { get; init; }

    /// <summary>The contact is answered with <paramref name="count"/>: it is durable in the window, or the window is
    /// full and its grant covers the contact (the contact follows to the window behind the answer).</summary>
    public abstract void Recorded(DateTimeOffset recordedAt, int count);

    /// <summary>The contact was not recorded (or it is unknown whether it was); the client must retry.</summary>
    public abstract void Failed(ErrorCode code, string message);
}
