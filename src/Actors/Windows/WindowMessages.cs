using System.Text;
using KmsCluster.Actors.Serialization;
using KmsCluster.Domain;

namespace KmsCluster.Actors.Windows;

/// <summary>A message for the window of one application; the sharding extractor routes on it.</summary>
public interface IWithApplicationId : IKmsMessage
{
    Guid ApplicationId { get; }
}

/// <summary>The messages of the activation-window protocol.</summary>
public static class WindowProtocol
{
    /// <summary>A gateway's batch of contacts for one window; answered with <see cref="ContactsAccepted"/>
    /// once the batch is durable, or <see cref="ContactsRejected"/>.</summary>
    /// <param name="Answered">The contacts were already answered from a <see cref="WindowGrant"/>: they follow their
    /// answers so that the window's latest contacts stay current, and the window never decides them together with
    /// a batch that raises its capacity (they were answered under the old one).</param>
    public sealed record RecordContacts(Guid ApplicationId, long BatchId, ContactRequest[] Contacts, bool Answered = false)
        : IWithApplicationId
    {
        /// <summary>The trace contexts of the traced requests among <see cref="Contacts"/> (--otlp-traces; empty
        /// otherwise): the window's kms.window.record span is the child of the first and links the others.</summary>
        public TraceContext[] Traces { get; init; } = [];

        /// <summary>The most trace contexts one message carries: they ride outside <see cref="MaxContactBytes"/>, and
        /// this many (about 70 bytes each) stay far inside the remoting frame's remaining room. Traced requests beyond
        /// it still get their own kms.activate span, without a link from the window's.</summary>
        public const int MaxTraces = 32;

        /// <summary>The most bytes of contacts one message carries. A window on another node receives it through Akka
        /// remoting, which drops a message larger than its frame (128,000 bytes by default) and tells nobody: the batch
        /// would never be answered, and a batch of contacts answered from a grant would be sent again and dropped again.</summary>
        public const int MaxContactBytes = 100_000;

        /// <summary>How many of <paramref name="contacts"/>, from the first, one message carries: at most
        /// <paramref name="maxContacts"/>, within <see cref="MaxContactBytes"/>, and always the first.</summary>
        public static int Fitting(IEnumerable<ContactRequest> contacts, int maxContacts)
        {
            var count = 0;
            var bytes = 0;
            foreach (var contact in contacts)
            {
                // At most what the contact takes encoded (WindowSchema): four fixed64 ids, the threshold, the
                // workstation's UTF-8 bytes and their length, two flags, the element's own tag and length.
                bytes += 56 + Encoding.UTF8.GetByteCount(contact.Workstation);
                if (count == maxContacts || (count > 0 && bytes > MaxContactBytes)) break;
                count++;
            }
            return count;
        }
    }

    /// <summary>The batch is journaled; <paramref name="Counts"/> holds each contact's count, in order (empty for a
    /// batch of contacts already answered from a grant).</summary>
    public sealed record ContactsAccepted(long BatchId, DateTimeOffset RecordedAt, int[] Counts) : IKmsMessage;

    /// <summary>The batch was not journaled (database down, write rejected); nothing of it may be acknowledged.</summary>
    public sealed record ContactsRejected(long BatchId, string Reason) : IKmsMessage;

    /// <summary>Sharding's hand-off stop message: the window finishes the write in flight, answers it, rejects
    /// what is still waiting (the client retries and reaches the window at its new home) and stops.
    /// Local only: the shard sends it to its own entity.</summary>
    public sealed class StopWindow
    {
        public static readonly StopWindow Instance = new();

        private StopWindow()
        {
        }
    }

    /// <summary>
    /// A full window's promise (<see cref="FullWindow"/>) handed to every node's gateway: until the grant lapses,
    /// the gateway answers the contacts it covers at once, on its own node. It lapses at <paramref name="FullUntil"/>
    /// or <paramref name="Lease"/> after the gateway received it, whichever comes first, unless renewed; it is
    /// dropped earlier by a <see cref="RevokeGrants"/> of the same or a later epoch.
    /// </summary>
    /// <param name="Epoch">The window's durable journal sequence number when the grant was made: grants and
    /// revocations of one window are ordered by it, across owners.</param>
    /// <param name="IssuedAt">The owner's clock when the grant was made.</param>
    public sealed record WindowGrant(
        Guid ApplicationId,
        long Epoch,
        int Capacity,
        int HighestThreshold,
        DateTimeOffset IssuedAt,
        DateTimeOffset FullUntil,
        TimeSpan Lease) : IKmsMessage
    {
        public FullWindow Promise => new(Capacity, HighestThreshold, FullUntil);
    }

    /// <summary>The window is about to write a batch that breaks its promise: every gateway drops its grants of
    /// <paramref name="Epoch"/> and earlier, sends the contacts it answered from them, then confirms with
    /// <see cref="GrantsRevoked"/> (both through the shard region, so they arrive in that order).</summary>
    public sealed record RevokeGrants(Guid ApplicationId, long Epoch) : IKmsMessage;

    /// <summary>A gateway's confirmation of <see cref="RevokeGrants"/>; <paramref name="Node"/> is its node's address.</summary>
    public sealed record GrantsRevoked(Guid ApplicationId, long Epoch, string Node) : IWithApplicationId;

    /// <summary>Asks for a read-out of the window; answered with <see cref="WindowView"/>.</summary>
    public sealed record GetWindow(Guid ApplicationId) : IWithApplicationId;

    /// <summary>The durable state of a window as the admin API shows it.</summary>
    public sealed record WindowView(
        Guid ApplicationId,
        DateTimeOffset AsOf,
        int Count,
        int Capacity,
        int HighestThreshold,
        long Requests,
        long Activated,
        DateTimeOffset? LastRecordedAt,
        string Owner,
        StoredContact[] Contacts) : IKmsMessage;
}
