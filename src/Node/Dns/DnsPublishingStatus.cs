using KmsCluster.Protocol.Admin;

namespace KmsCluster.Node.Dns;

/// <summary>
/// What the node's DNS publishing is doing, for the admin API (<c>/api/v1/host/dns</c>, <c>/healthz</c>) and
/// the tests. Written by <see cref="DnsPublisher"/>, read by anyone; thread-safe.
/// </summary>
public sealed class DnsPublishingStatus(DnsPublishing settings)
{
    private readonly object _gate = new();
    private string _state = settings.Enabled ? States.Starting : States.Off;
    private int? _port;
    private long _attempts;
    private long _failures;
    private int _consecutiveFailures;
    private DateTimeOffset? _lastAttempt;
    private DateTimeOffset? _lastSuccess;
    private DateTimeOffset? _lastFailure;
    private string? _lastError;
    private DateTimeOffset? _nextAttempt;

    public DnsPublishing Settings { get; } = settings;

    public static class States
    {
        /// <summary>Publishing is not configured (no --dns-publish).</summary>
        public const string Off = "off";

        /// <summary>Waiting for the activation endpoint, or the first update is on its way.</summary>
        public const string Starting = "starting";

        /// <summary>The last update succeeded: the records are in DNS.</summary>
        public const string Published = "published";

        /// <summary>The last update failed; the next attempt is scheduled (back-off).</summary>
        public const string Failing = "failing";

        /// <summary>Shutting down: the records were deleted.</summary>
        public const string Removed = "removed";

        /// <summary>Shutting down: deleting the records failed; they stay until their owner deletes them.</summary>
        public const string RemoveFailed = "remove-failed";
    }

    public string State
    {
        get
        {
            lock (_gate) return _state;
        }
    }

    public long Attempts
    {
        get
        {
            lock (_gate) return _attempts;
        }
    }

    internal void Starting(int port)
    {
        lock (_gate) _port = port;
    }

    internal void Attempting(DateTimeOffset now)
    {
        lock (_gate)
        {
            _attempts++;
            _lastAttempt = now;
            _nextAttempt = null;
        }
    }

    internal void Succeeded(DateTimeOffset now, DateTimeOffset next)
    {
        lock (_gate)
        {
            _state = States.Published;
            _lastSuccess = now;
            _consecutiveFailures = 0;
            _nextAttempt = next;
        }
    }

    /// <returns>Failures in a row, this one included.</returns>
    internal int Failed(DateTimeOffset now, string error)
    {
        lock (_gate)
        {
            _state = States.Failing;
            _failures++;
            _lastFailure = now;
            _lastError = error;
            return ++_consecutiveFailures;
        }
    }

    internal void Scheduled(DateTimeOffset next)
    {
        lock (_gate) _nextAttempt = next;
    }

    internal void Removed(DateTimeOffset now, DnsUpdateOutcome outcome)
    {
        lock (_gate)
        {
            _state = outcome.Succeeded ? States.Removed : States.RemoveFailed;
            _nextAttempt = null;
            if (!outcome.Succeeded)
            {
                _lastFailure = now;
                _lastError = outcome.Error;
            }
        }
    }

    public DnsStatusJson Snapshot()
    {
        var s = Settings;
        lock (_gate)
        {
            var record = s.Enabled && _port is { } port ? new DnsRegistration(s, port).SrvText : null;
            return new DnsStatusJson(s.Enabled, _state, s.Enabled ? s.Server.ToString() : null, s.Enabled ? s.Zone : null,
                s.Enabled ? s.Owner : null, s.Enabled ? s.Target : null, _port, s.Priority, s.Weight, (int)s.Ttl.TotalSeconds,
                (long)s.Refresh.TotalSeconds, s.Addresses.Select(a => a.ToString()).ToArray(), s.Tsig?.Name, s.Tsig?.Algorithm,
                record, _attempts, _failures, _consecutiveFailures, _lastAttempt, _lastSuccess, _lastFailure, _lastError, _nextAttempt);
        }
    }
}
