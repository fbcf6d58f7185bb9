using KmsCluster.Domain;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Actors.Gateway;

/// <summary>One client contact handed to a <see cref="ContactGateway"/>, with the way back to its client.
/// The gateway calls exactly one of the two methods, once.</summary>
public abstract class ContactSubmission(Guid applicationId, ContactRequest contact)
{
    public Guid ApplicationId { get; } = applicationId;

    public ContactRequest Contact { get; } = contact;

    /// <summary>The contact is answered with <paramref name="count"/>: it is durable in the window, or the window is
    /// full and its grant covers the contact (the contact follows to the window behind the answer).</summary>
    public abstract void Recorded(DateTimeOffset recordedAt, int count);

    /// <summary>The contact was not recorded (or it is unknown whether it was); the client must retry.</summary>
    public abstract void Failed(ErrorCode code, string message);
}
