using KmsCluster.Domain;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Grants;

/// <summary>
/// A window's side of its grants: when to hand one out, until when one may still be honoured somewhere, and the
/// revocation a batch that breaks the promise must wait for. Grants come only from durable state (after recovery,
/// after a write) and carry the durable sequence number as their epoch.
/// </summary>
/// <remarks>
/// A revocation is complete when every node that was a member when a grant went out has confirmed it, or when
/// the last grant's lease (plus a margin) has run out, whichever is first. Grants of a previous owner of the
/// window cannot be confirmed away (nobody knows who holds them), so a window that recovers full waits out one
/// lease before breaking its promise; on a single-node host the previous owner was this process and its grants
/// died with it.
/// </remarks>
internal sealed class WindowGrants(Guid applicationId, GrantSettings settings, GrantTopic topic, TimeProvider time)
{
    private readonly HashSet<string> _grantees = [];
    private long _durableEpoch;
    private FullWindow? _promise;
    private long _lastGrantAt;
    private bool _granted;
    private long _mayBeHonouredUntil;
    private long _predecessorHonouredUntil;
    private Revocation? _revocation;

    /// <summary>A revocation is under way: hold every write until <see cref="RevocationComplete"/>.</summary>
    public bool Revoking => _revocation is not null;

    /// <summary>The window recovered at <paramref name="sequenceNr"/>; if it is full, a previous owner may have
    /// granted its promise.</summary>
    public void Recovered(ContactWindow window, long sequenceNr)
    {
        _durableEpoch = sequenceNr;
        if (!settings.Enabled || window.FullAt(time.GetUtcNow()) is not { } full) return;
        _promise = full;
        if (!settings.SingleNode)
        {
            _predecessorHonouredUntil = _mayBeHonouredUntil = Deadline(full, time.GetUtcNow());
        }
    }

    /// <summary>Whether writing <paramref name="decision"/> must wait for a revocation first: a grant of the
    /// promise may still be honoured and the batch would break it.</summary>
    public bool MustRevokeBefore(BatchDecision decision) =>
        _promise is { } promise && time.GetTimestamp() < _mayBeHonouredUntil && !promise.IsKeptBy(decision);

    /// <summary>Asks every gateway to drop its grants and confirm.</summary>
    public void StartRevocation()
    {
        _revocation = new Revocation(_durableEpoch, [.. _grantees]);
        KmsMetrics.GrantRevocations.Add(1);
        topic.Revoke(new RevokeGrants(applicationId, _durableEpoch));
    }

    /// <summary>A gateway confirmed; true when the revocation is now complete.</summary>
    public bool Confirmed(GrantsRevoked confirmation)
    {
        if (_revocation is not { } revocation || confirmation.Epoch != revocation.Epoch) return false;
        revocation.Missing.Remove(confirmation.Node);
        return RevocationComplete();
    }

    /// <summary>True (and the promise forgotten) once no revoked grant can still be honoured anywhere.</summary>
    public bool RevocationComplete()
    {
        if (_revocation is not { } revocation) return true;
        var now = time.GetTimestamp();
        if (now < _mayBeHonouredUntil && (revocation.Missing.Count > 0 || now < _predecessorHonouredUntil)) return false;
        _revocation = null;
        _promise = null;
        _granted = false;
        _grantees.Clear();
        _mayBeHonouredUntil = _predecessorHonouredUntil = 0;
        return true;
    }

    /// <summary>The window's state is durable up to <paramref name="sequenceNr"/>: grant its promise if it is full
    /// and no grant of the same promise went out within the renewal period.</summary>
    public void Durable(ContactWindow window, long sequenceNr)
    {
        _durableEpoch = sequenceNr;
        GrantIfDue(window, renewal: false);
    }

    /// <summary>The renewal timer: grant again so that gateways' leases do not run out while the window is full.</summary>
    public void Renew(ContactWindow window) => GrantIfDue(window, renewal: true);

    private void GrantIfDue(ContactWindow window, bool renewal)
    {
        var now = time.GetUtcNow();
        if (!settings.Enabled || _revocation is not null || window.FullAt(now) is not { } full) return;
        var sameAsLast = _granted && _promise is { } last && last.HighestThreshold == full.HighestThreshold;
        if (sameAsLast && !renewal && time.GetElapsedTime(_lastGrantAt) < settings.EffectiveRenewEvery) return;
        _promise = full;
        _granted = true;
        _lastGrantAt = time.GetTimestamp();
        _grantees.UnionWith(topic.Nodes);
        _mayBeHonouredUntil = Math.Max(_mayBeHonouredUntil, Deadline(full, now));
        topic.Publish(applicationId, new WindowGrant(applicationId, _durableEpoch, full.Capacity, full.HighestThreshold, now,
            full.FullUntil, settings.EffectiveLease));
    }

    /// <summary>The monotonic instant until which a grant of <paramref name="promise"/> made at <paramref name="now"/>
    /// may be honoured: the gateways' own bound, plus the margin.</summary>
    private long Deadline(FullWindow promise, DateTimeOffset now)
    {
        var life = promise.FullUntil - now;
        if (settings.EffectiveLease < life) life = settings.EffectiveLease;
        if (life < TimeSpan.Zero) life = TimeSpan.Zero;
        life += settings.EffectiveMargin;
        return time.GetTimestamp() + (long)(life.TotalSeconds * time.TimestampFrequency);
    }

    private sealed record Revocation(long Epoch, HashSet<string> Missing);
}
