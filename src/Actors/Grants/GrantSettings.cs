namespace KmsCluster.Actors.Grants;

/// <summary>How full windows hand out grants (docs/architecture.md, "Full windows answer on every node").</summary>
/// <param name="Enabled">Off: every contact goes to its window and is durable before its answer.</param>
/// <param name="Lease">A gateway honours a grant at most this long after receiving it unless renewed. It bounds how
/// long a window must wait before a batch that breaks its promise when a gateway cannot confirm a revocation (a
/// node partitioned away, or grants of a previous owner), and how long gateways keep answering while the window
/// is away: longer than a failover, short enough to be an acceptable wait for the rare capacity raise.</param>
/// <param name="RenewEvery">A full window renews its grants this often.</param>
/// <param name="Margin">Added to every lease on the window's side: message transit, and clocks that run at
/// slightly different rates.</param>
/// <param name="FlushInterval">Contacts answered from a grant wait at most this long before they go to the window.</param>
/// <param name="MaxBufferedContacts">Contacts answered from a grant and not yet journaled, per gateway; beyond it
/// the oldest are dropped (and counted) while the window is away for long.</param>
/// <param name="SingleNode">This node is its own cluster: a previous owner of a window was an earlier run of
/// this process, so no grant of it can still be honoured anywhere.</param>
public sealed record GrantSettings(
    bool Enabled = true,
    TimeSpan? Lease = null,
    TimeSpan? RenewEvery = null,
    TimeSpan? Margin = null,
    TimeSpan? FlushInterval = null,
    int MaxBufferedContacts = 500_000,
    bool SingleNode = false)
{
    public static readonly GrantSettings Default = new();

    public static readonly GrantSettings Disabled = new(Enabled: false);

    public TimeSpan EffectiveLease => Lease ?? TimeSpan.FromSeconds(30);

    public TimeSpan EffectiveRenewEvery => RenewEvery ?? EffectiveLease / 3;

    public TimeSpan EffectiveMargin => Margin ?? TimeSpan.FromSeconds(2);

    public TimeSpan EffectiveFlushInterval => FlushInterval ?? TimeSpan.FromMilliseconds(50);
}
