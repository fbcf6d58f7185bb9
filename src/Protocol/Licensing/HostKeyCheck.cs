using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Protocol.Licensing;

/// <summary>Why a host key does not (or not yet) let a host serve activations.</summary>
public enum HostKeyProblem
{
    None,

    /// <summary>Signed by an authority this node does not trust (or no authority is configured).</summary>
    UnknownAuthority,

    /// <summary>Names a trusted authority, but its signature does not verify: the document was changed.</summary>
    BadSignature,

    /// <summary>Its expiry has passed.</summary>
    Expired,

    /// <summary>Its group is not in this node's catalogue.</summary>
    UnknownGroup,

    /// <summary>Its group cannot be hosted on this node's host OS.</summary>
    NotHostable,

    /// <summary>The host activation ledger has not confirmed this host's activation yet.</summary>
    Pending,

    /// <summary>The ledger refused a new host: the key has activated as many hosts as it may.</summary>
    HostLimitReached,

    /// <summary>The ledger refused a re-activation: this host was re-activated 9 times with the key.</summary>
    ReactivationLimitReached,
}

/// <summary>The verdict on one host key for one node.</summary>
public sealed record HostKeyCheck(HostKey Key, KeyGroup? Group, HostKeyProblem Problem, string Reason)
{
    public bool IsValid => Problem == HostKeyProblem.None;

    /// <summary>Stable lower-case name for logs and the admin API.</summary>
    public static string Name(HostKeyProblem problem) => problem switch
    {
        HostKeyProblem.None => "ok",
        HostKeyProblem.UnknownAuthority => "unknown-authority",
        HostKeyProblem.BadSignature => "bad-signature",
        HostKeyProblem.Expired => "expired",
        HostKeyProblem.UnknownGroup => "unknown-group",
        HostKeyProblem.NotHostable => "not-hostable",
        HostKeyProblem.Pending => "pending",
        HostKeyProblem.HostLimitReached => "host-limit-reached",
        HostKeyProblem.ReactivationLimitReached => "reactivation-limit-reached",
        _ => problem.ToString(),
    };

    /// <summary>
    /// Checks a key's signature against the trusted authorities, its expiry at <paramref name="now"/>, that its
    /// group is in the catalogue and can be hosted on <paramref name="hostOs"/>, in that order; the first
    /// problem found is the verdict. The ledger's limits are checked later, by the ledger.
    /// </summary>
    public static HostKeyCheck Verify(HostKey key, IReadOnlyList<TrustedAuthority> trusted, ProductCatalog catalog,
        HostOperatingSystem hostOs, DateTimeOffset now)
    {
        var authority = trusted.FirstOrDefault(a => a.Fingerprint == key.Authority);
        if (authority is null)
        {
            return new HostKeyCheck(key, null, HostKeyProblem.UnknownAuthority, trusted.Count == 0
                ? $"signed by authority {key.Authority}, but this node trusts no authority (--authority-key)"
                : $"signed by authority {key.Authority}, which this node does not trust (it trusts {string.Join(", ", trusted.Select(a => a.Fingerprint))})");
        }
        if (!authority.HasSigned(key))
        {
            return new HostKeyCheck(key, null, HostKeyProblem.BadSignature,
                $"bad signature: the key names authority {key.Authority}, but its signature does not match its content (changed after issue?)");
        }
        if (key.ExpiresAt is { } expires && expires <= now)
        {
            return new HostKeyCheck(key, null, HostKeyProblem.Expired, $"expired at {HostKey.FormatTime(expires)}");
        }
        var group = catalog.FindKeyGroup(key.Group);
        if (group is null)
        {
            return new HostKeyCheck(key, null, HostKeyProblem.UnknownGroup,
                $"unknown group \"{key.Group}\" (this node's catalogue has: {string.Join(", ", catalog.KeyGroups.Select(g => g.Name))})");
        }
        if (!group.CanBeHostedOn(hostOs))
        {
            return new HostKeyCheck(key, group, HostKeyProblem.NotHostable,
                $"group \"{group.Name}\" cannot be hosted on {hostOs.Name} (only on {string.Join(", ", group.HostableOn.Select(os => os.Name))})");
        }
        return new HostKeyCheck(key, group, HostKeyProblem.None, "valid");
    }
}
