using KmsCluster.Domain;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Grants;

/// <summary>
/// One gateway's grant and the contacts answered from it that have not reached the window yet. Connections'
/// threads answer through <see cref="TryAnswer"/>; the gateway actor accepts grants and revocations and takes the
/// answered contacts away in batches. One lock keeps a revocation and an answer from crossing: once
/// <see cref="Revoke"/> returns, no answer comes from the revoked grant and every contact answered from it is in
/// what it returned.
/// </summary>
public sealed class GrantedAnswers(TimeProvider time, int maxBuffered)
{
    private readonly Lock _gate = new();
    private readonly Queue<ContactRequest> _answered = new();
    private Held? _held;
    private long _revokedEpoch;

    /// <summary>Contacts answered and not yet handed to the gateway.</summary>
    public int Buffered
    {
        get { lock (_gate) return _answered.Count; }
    }

    /// <summary>The grant in force, if any (for views and tests).</summary>
    public WindowGrant? Grant
    {
        get { lock (_gate) return _held is { } held && time.GetTimestamp() < held.Deadline ? held.Grant : null; }
    }

    /// <summary>Answers <paramref name="contact"/> from the grant when one is in force and covers it: the count to
    /// answer and the host's time, and the contact joins those that follow to the window. Else false.</summary>
    public bool TryAnswer(in ContactRequest contact, out int count, out DateTimeOffset answeredAt, out int buffered)
    {
        answeredAt = time.GetUtcNow();
        lock (_gate)
        {
            if (_held is not { } held || time.GetTimestamp() >= held.Deadline || !held.Promise.Covers(contact.Threshold, answeredAt))
            {
                count = buffered = 0;
                return false;
            }
            if (_answered.Count >= maxBuffered)
            {
                _answered.Dequeue();
                KmsMetrics.GrantContactsDropped.Add(1);
            }
            _answered.Enqueue(contact);
            count = held.Promise.Capacity;
            buffered = _answered.Count;
        }
        KmsMetrics.GrantAnswers.Add(1);
        return true;
    }

    /// <summary>Takes a grant unless a revocation or a newer grant superseded it, or it arrived after its
    /// expiry or its lease (by this node's clock). Its lease runs on the monotonic clock from now, and ends no
    /// later than the window's full-until as the owner reckoned it when granting, so a step of either wall clock
    /// cannot lengthen it.</summary>
    public bool Accept(WindowGrant grant)
    {
        var now = time.GetUtcNow();
        var life = grant.FullUntil - grant.IssuedAt;
        if (grant.Lease < life) life = grant.Lease;
        lock (_gate)
        {
            if (grant.Epoch <= _revokedEpoch || (_held is { } held && held.Grant.Epoch > grant.Epoch)
                || now >= grant.FullUntil || now >= grant.IssuedAt + grant.Lease || life <= TimeSpan.Zero)
            {
                return false;
            }
            _held = new Held(grant, grant.Promise, time.GetTimestamp() + (long)(life.TotalSeconds * time.TimestampFrequency));
            return true;
        }
    }

    /// <summary>Drops grants of <paramref name="epoch"/> and earlier, refuses them from now on, and returns every
    /// contact answered so far (they must reach the window before the revocation is confirmed).</summary>
    public ContactRequest[] Revoke(long epoch)
    {
        lock (_gate)
        {
            _revokedEpoch = Math.Max(_revokedEpoch, epoch);
            if (_held is { } held && held.Grant.Epoch <= epoch) _held = null;
            return DrainLocked(int.MaxValue);
        }
    }

    /// <summary>Takes up to <paramref name="max"/> answered contacts, oldest first, as many as one message to the
    /// window carries (<see cref="RecordContacts.Fitting"/>).</summary>
    public ContactRequest[] Drain(int max)
    {
        lock (_gate) return DrainLocked(RecordContacts.Fitting(_answered, max));
    }

    /// <summary>Puts contacts whose batch failed back in front of the others, to be sent again.</summary>
    public void Return(ContactRequest[] contacts)
    {
        lock (_gate)
        {
            var again = contacts.Concat(_answered).ToArray();
            var dropped = Math.Max(0, again.Length - maxBuffered);
            if (dropped > 0) KmsMetrics.GrantContactsDropped.Add(dropped);
            _answered.Clear();
            foreach (var contact in again.AsSpan(dropped)) _answered.Enqueue(contact);
        }
    }

    private ContactRequest[] DrainLocked(int max)
    {
        var batch = new ContactRequest[Math.Min(max, _answered.Count)];
        for (var i = 0; i < batch.Length; i++) batch[i] = _answered.Dequeue();
        return batch;
    }

    private sealed record Held(WindowGrant Grant, FullWindow Promise, long Deadline);
}
