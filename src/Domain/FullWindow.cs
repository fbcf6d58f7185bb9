namespace KmsCluster.Domain;

/// <summary>
/// What a full window promises, read off its durable state: until <see cref="FullUntil"/> (its oldest contact's
/// 30-day mark), a contact for an edition whose threshold is at most <see cref="HighestThreshold"/> is answered
/// with the count <see cref="Capacity"/>, activated, whichever machine it comes from. A new machine replaces the
/// oldest contact and an old one moves to the newest place, so the count stays at capacity; it can fall only
/// when the oldest contact ages out, or when a higher threshold raises the capacity. That is what lets any node
/// answer from a grant of this promise before the contact itself is durable.
/// </summary>
public readonly record struct FullWindow(int Capacity, int HighestThreshold, DateTimeOffset FullUntil)
{
    /// <summary>Whether a contact for an edition of <paramref name="threshold"/> at <paramref name="now"/> is
    /// answered by this promise: the count it gets is <see cref="Capacity"/>.</summary>
    public bool Covers(int threshold, DateTimeOffset now) => threshold <= HighestThreshold && now < FullUntil;

    /// <summary>Whether the promise still holds once <paramref name="decision"/> (a batch decided on the window
    /// that made it) is applied: the capacity is unchanged and the window is still full. A batch that breaks it
    /// (a higher threshold, or contacts aged out by the time it is decided) must wait until every grant of the
    /// promise is revoked or has lapsed.</summary>
    public bool IsKeptBy(BatchDecision decision) =>
        decision.Event.HighestThreshold == HighestThreshold && decision.Counts.Length > 0 && decision.Counts[^1] == Capacity;
}
