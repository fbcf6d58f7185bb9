using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using KmsCluster.Domain;
using KmsCluster.Node.Configuration;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Node.Licensing;

/// <summary>Why this host does not activate a product: the error to send, already worded.</summary>
public sealed record LicenceRefusal(ErrorCode Code, string Message);

/// <summary>
/// What this host may activate, from its host keys: a key counts once its signature, authority, expiry, group and
/// host OS check out (<see cref="HostKeyCheck"/>) and the cluster's host activation ledger has confirmed this
/// host's activation under it. The products the active keys' groups activate on this host OS are allowed;
/// every other product has its refusal worked out in advance, so <see cref="Allows"/> is one dictionary lookup
/// on the activation path. The verdicts are rebuilt when the ledger answers and when a key expires.
/// </summary>
public sealed partial class HostLicence : IDisposable
{
    private readonly NodeLicensing _licensing;
    private readonly TimeProvider _time;
    private readonly ILogger<HostLicence> _log;
    private readonly Lock _gate = new();
    private IReadOnlyList<HostKeyCheck> _keys;
    private volatile Verdicts _verdicts;
    private ITimer? _expiry;

    public HostLicence(NodeOptions options, TimeProvider time, ILogger<HostLicence> log)
    {
        _licensing = options.Licensing;
        _time = time;
        _log = log;
        var now = time.GetUtcNow();
        // A key that checks out still waits for the ledger before it activates anything.
        _keys = _licensing.HostKeys.Select(installed =>
        {
            var check = HostKeyCheck.Verify(installed.Key, _licensing.Authorities, _licensing.Catalog, _licensing.HostOs, now);
            return check.IsValid ? check with { Problem = HostKeyProblem.Pending, Reason = PendingReason } : check;
        }).ToList();
        _verdicts = Verdicts.Compute(_licensing, _keys);
        foreach (var key in _keys)
        {
            Report(key);
        }
        ReportIfUnlicensed(_keys);
        ScheduleExpiry();
    }

    private const string PendingReason = "waiting for the host activation ledger to confirm this host";
    private const string NoKeyInstalled = "this host has no host key: it activates nothing (install one with --host-key)";

    public HostOperatingSystem HostOs => _licensing.HostOs;

    public NodeLicensing Settings => _licensing;

    /// <summary>Every installed key with its current verdict.</summary>
    public IReadOnlyList<HostKeyCheck> Keys
    {
        get
        {
            lock (_gate) return _keys;
        }
    }

    /// <summary>licensed (some key is active), pending (none yet, some await the ledger), unlicensed.</summary>
    public string Status
    {
        get
        {
            var keys = Keys;
            return keys.Any(k => k.IsValid) ? "licensed"
                : keys.Any(k => k.Problem == HostKeyProblem.Pending) ? "pending"
                : "unlicensed";
        }
    }

    /// <summary>True once no key waits for the ledger any more.</summary>
    public bool IsSettled => Keys.All(k => k.Problem != HostKeyProblem.Pending);

    /// <summary>What this host activates now, in catalogue order.</summary>
    public IReadOnlyList<Product> Activates => _verdicts.Allowed;

    /// <summary>Why each key that does not count does not (empty when every key is active).</summary>
    public IReadOnlyList<string> Problems => Keys.Count == 0
        ? [NoKeyInstalled]
        : Keys.Where(k => !k.IsValid).Select(k => $"{k.Key.KeyId} ({k.Key.Group}): {k.Reason}").ToList();

    public string FileOf(string keyId) => _licensing.HostKeys.FirstOrDefault(k => k.Key.KeyId == keyId)?.File ?? "";

    /// <summary>True when this host may activate <paramref name="product"/> (a product of its catalogue);
    /// otherwise the refusal to send.</summary>
    public bool Allows(Product product, [NotNullWhen(false)] out LicenceRefusal? refusal) =>
        !_verdicts.Refused.TryGetValue(product.Id, out refusal);

    /// <summary>The ledger answered this host's activation under <paramref name="keyId"/>.</summary>
    public void LedgerAnswered(string keyId, HostActivationOutcome outcome) => Answered(keyId, outcome, "the host activation ledger");

    /// <summary>The licensing authority answered this host's activation under <paramref name="keyId"/>: its
    /// answer is the truth, whatever the cluster's ledger said.</summary>
    public void AuthorityAnswered(string keyId, HostActivationOutcome outcome) => Answered(keyId, outcome, "the licensing authority");

    /// <summary>This host holds the authority's certificate for <paramref name="keyId"/>: the key is active, whatever
    /// the cluster's ledger said (<see cref="HostCertification"/> asks for a new certificate before this one ends).</summary>
    public void Certified(string keyId, HostCertificate certificate)
    {
        lock (_gate)
        {
            var index = _keys.ToList().FindIndex(k => k.Key.KeyId == keyId);
            if (index < 0 || _keys[index].Problem is not (HostKeyProblem.None or HostKeyProblem.Pending
                or HostKeyProblem.HostLimitReached or HostKeyProblem.ReactivationLimitReached))
            {
                return;
            }
            var updated = _keys[index] with
            {
                Problem = HostKeyProblem.None,
                Reason = $"certified by the licensing authority until {HostKey.FormatTime(certificate.ExpiresAt)}",
            };
            var keys = _keys.ToList();
            keys[index] = updated;
            Report(updated);
            Publish(keys);
        }
    }

    private void Answered(string keyId, HostActivationOutcome outcome, string by)
    {
        lock (_gate)
        {
            var index = _keys.ToList().FindIndex(k => k.Key.KeyId == keyId);
            if (index < 0) return;
            var key = _keys[index];
            var updated = outcome switch
            {
                HostActivationOutcome.HostLimitReached => key with
                {
                    Problem = HostKeyProblem.HostLimitReached,
                    Reason = $"refused by {by}: the key has activated its limit of {key.Key.HostLimit} hosts (the authority can issue a key with a larger --max-hosts)",
                },
                HostActivationOutcome.ReactivationLimitReached when key.Problem == HostKeyProblem.Pending => key with
                {
                    Problem = HostKeyProblem.ReactivationLimitReached,
                    Reason = $"refused by {by}: this host was re-activated {HostKey.MaxReactivations} times with the key",
                },
                HostActivationOutcome.ReactivationLimitReached => key, // an explicit re-activation: the host keeps its activation
                _ => key with { Problem = HostKeyProblem.None, Reason = $"{by} confirmed this host ({Admin.LicensingApi.Outcome(outcome)})" },
            };
            if (updated == key) return;
            var keys = _keys.ToList();
            keys[index] = updated;
            Report(updated);
            Publish(keys);
        }
    }

    /// <summary>Installs new verdicts; caller holds the lock.</summary>
    private void Publish(List<HostKeyCheck> keys)
    {
        _keys = keys;
        _verdicts = Verdicts.Compute(_licensing, keys);
        ReportIfUnlicensed(keys);
    }

    private void Report(HostKeyCheck key)
    {
        var file = FileOf(key.Key.KeyId);
        var status = HostKeyCheck.Name(key.Problem);
        if (key.Problem is HostKeyProblem.None or HostKeyProblem.Pending)
        {
            LogKey(key.Key.KeyId, key.Key.Group, file, status, key.Reason);
        }
        else
        {
            LogKeyRefused(key.Key.KeyId, key.Key.Group, file, status, key.Reason);
        }
    }

    private void ReportIfUnlicensed(IReadOnlyList<HostKeyCheck> keys)
    {
        if (!keys.Any(k => k.IsValid || k.Problem == HostKeyProblem.Pending))
        {
            LogUnlicensed(string.Join("; ", keys.Count == 0 ? [NoKeyInstalled] : keys.Select(k => $"{k.Key.KeyId}: {k.Reason}")));
        }
    }

    /// <summary>Arms a timer for the next expiry among the keys that still count.</summary>
    private void ScheduleExpiry()
    {
        var next = Keys.Where(k => k.Problem is HostKeyProblem.None or HostKeyProblem.Pending)
            .Select(k => k.Key.ExpiresAt).Where(at => at.HasValue).Min();
        _expiry?.Dispose();
        _expiry = null;
        if (next is { } at)
        {
            var due = at - _time.GetUtcNow();
            _expiry = _time.CreateTimer(_ => Expire(), null, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
        }
    }

    private void Expire()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var keys = _keys.Select(k => k.Problem is HostKeyProblem.None or HostKeyProblem.Pending && k.Key.ExpiresAt <= now
                ? k with { Problem = HostKeyProblem.Expired, Reason = $"expired at {HostKey.FormatTime(k.Key.ExpiresAt!.Value)}" }
                : k).ToList();
            foreach (var expired in keys.Where((k, i) => k != _keys[i]))
            {
                Report(expired);
            }
            Publish(keys);
        }
        ScheduleExpiry();
    }

    public void Dispose() => _expiry?.Dispose();

    /// <summary>The allowed products and, for every other product of the catalogue, its refusal.</summary>
    private sealed record Verdicts(IReadOnlyList<Product> Allowed, FrozenDictionary<Guid, LicenceRefusal> Refused)
    {
        public static Verdicts Compute(NodeLicensing licensing, IReadOnlyList<HostKeyCheck> keys)
        {
            var os = licensing.HostOs;
            var active = keys.Where(k => k.IsValid).ToList();
            var allowed = active.SelectMany(k => k.Group!.ActivatesOn(os)).Select(p => p.Id).ToHashSet();
            var refused = licensing.Catalog.Products.Where(p => !allowed.Contains(p.Id))
                .ToFrozenDictionary(p => p.Id, p => Why(p, licensing, keys, active));
            return new Verdicts(licensing.Catalog.Products.Where(p => allowed.Contains(p.Id)).ToList(), refused);
        }

        private static LicenceRefusal Why(Product product, NodeLicensing licensing, IReadOnlyList<HostKeyCheck> keys,
            List<HostKeyCheck> active)
        {
            var os = licensing.HostOs;
            var waiting = keys.FirstOrDefault(k => k.Problem == HostKeyProblem.Pending && k.Group!.ActivatesOn(os).Contains(product));
            if (waiting is not null)
            {
                return new LicenceRefusal(ErrorCode.WindowUnavailable,
                    $"host key {waiting.Key.KeyId} ({waiting.Key.Group}) is {PendingReason}; retry");
            }
            if (active.Count == 0)
            {
                return new LicenceRefusal(ErrorCode.NoHostKey, keys.Count == 0
                    ? NoKeyInstalled
                    : $"this host has no valid host key: {string.Join("; ", keys.Select(k => $"{k.Key.KeyId} ({k.Key.Group}): {k.Reason}"))}");
            }
            // A key that would cover the product but does not count here.
            var broken = keys.FirstOrDefault(k => !k.IsValid && (k.Group ?? licensing.Catalog.FindKeyGroup(k.Key.Group))?.Covers(product) == true);
            if (broken is not null)
            {
                return new LicenceRefusal(ErrorCode.NoHostKey,
                    $"host key {broken.Key.KeyId} ({broken.Key.Group}), which covers {product.Slug}, is not valid: {broken.Reason}");
            }
            if (!os.MayActivate(product) && active.Any(k => k.Group!.Covers(product)))
            {
                return new LicenceRefusal(ErrorCode.ProductNotAllowed,
                    $"product not allowed on this host: {product.Slug} is a server edition, and a host on a client OS ({os.Name}) activates client editions only");
            }
            var groups = string.Join(", ", active.Select(k => k.Group!.Name).Distinct());
            var coveredBy = licensing.Catalog.KeyGroups.Where(g => g.Covers(product)).Select(g => g.Name).ToList();
            return new LicenceRefusal(ErrorCode.ProductNotAllowed,
                $"product not allowed on this host: {product.Slug} is outside the key groups of this host ({groups}); " +
                (coveredBy.Count == 0 ? "no key group of the catalogue activates it" : $"a key of {string.Join(" or ", coveredBy)} would"));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Host key {KeyId} ({Group}, {File}): {Status}: {Reason}")]
    private partial void LogKey(string keyId, string group, string file, string status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Host key {KeyId} ({Group}, {File}) does not count: {Status}: {Reason}")]
    private partial void LogKeyRefused(string keyId, string group, string file, string status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No valid host key: every activation is refused with no-host-key ({Reasons})")]
    private partial void LogUnlicensed(string reasons);
}
