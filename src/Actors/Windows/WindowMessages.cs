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
    public sealed record RecordContacts(Guid ApplicationId, long BatchId, ContactRequest[] Contacts) : IWithApplicationId;

    /// <summary>The batch is journaled; <paramref name="Counts"/> holds each contact's count, in order.</summary>
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
