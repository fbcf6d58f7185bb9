using Akka.Actor;
using Akka.Coordination;
using Akka.Event;
using Npgsql;

namespace KmsCluster.Node.Clustering;

/// <summary>
/// An Akka.NET lease kept in the cluster's PostgreSQL database (table <c>kms_lease</c>): the split brain
/// resolver's arbiter. When the cluster splits, or a node dies, the side that can take the lease keeps
/// running and the other downs itself. With two nodes no membership rule can tell a crash from a partition
/// (keep-majority and keep-oldest both shut the survivor down when the wrong node dies); the database can,
/// because a dead or cut-off node cannot take the lease. Expiry is judged by the database's clock, so the
/// nodes' clocks do not matter.
/// The lease is sticky: the node that took it keeps renewing it while it lives (the resolver's release-after
/// is set far out), so a node that wakes from a long freeze, or a minority cut off long ago, can never take
/// it from the running cluster and downs itself instead. Within the running cluster any reachable member
/// may take it over (the leader that decides may change). When the holder dies, its lease expires within
/// heartbeat-timeout and the survivors' next decision waits that out.
/// </summary>
public sealed class PostgresLease : Lease
{
    private readonly string _connectionString;
    private readonly ILoggingAdapter _log;
    private readonly ActorSystem _system;
    private readonly object _gate = new();
    private Timer? _heartbeat;
    private Action<Exception?>? _onLost;
    private long _heldUntil; // Environment.TickCount64; 0 = not held

    public PostgresLease(LeaseSettings settings, ActorSystem system) : base(settings)
    {
        _connectionString = settings.LeaseConfig.GetString("connection-string");
        if (string.IsNullOrEmpty(_connectionString))
        {
            throw new ArgumentException($"lease {settings.LeaseName}: connection-string is not configured");
        }
        _log = Akka.Event.Logging.GetLogger(system, typeof(PostgresLease));
        _system = system;
    }

    private TimeSpan Ttl => Settings.TimeoutSettings.HeartbeatTimeout;

    public override Task<bool> Acquire() => Acquire(null);

    /// <summary>
    /// Takes the lease if it is free, expired or already ours. A lease held by a member this node can reach is
    /// on our side of any split: the side's current decision-maker takes it over. A lease held by anybody else
    /// (a member we cannot reach, a node no longer in our view) is waited out while its expiry falls within
    /// the operation timeout: a holder that died stops renewing, and its lease must pass to the survivors
    /// rather than make them down themselves; a holder alive on the other side keeps renewing, and we lose.
    /// </summary>
    public override async Task<bool> Acquire(Action<Exception?>? leaseLostCallback)
    {
        var deadline = Environment.TickCount64 + (long)Settings.TimeoutSettings.OperationTimeout.TotalMilliseconds;
        try
        {
            while (true)
            {
                if (await ExecuteAsync("""
                        INSERT INTO kms_lease (name, owner, expires_at) VALUES (@name, @owner, now() + @ttl)
                        ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
                        WHERE kms_lease.owner = EXCLUDED.owner OR kms_lease.owner IS NULL OR kms_lease.expires_at < now()
                        """) == 1)
                {
                    return Acquired(leaseLostCallback, "acquired");
                }
                var (holder, expiresIn) = await HolderAsync();
                if (holder is not null && IsReachableMember(holder) &&
                    await ExecuteAsync("UPDATE kms_lease SET owner = @owner, expires_at = now() + @ttl WHERE name = @name AND owner = @holder",
                        ("holder", holder)) == 1)
                {
                    return Acquired(leaseLostCallback, $"taken over from {holder}, a member on this side");
                }
                var remaining = deadline - Environment.TickCount64;
                if (expiresIn is null || expiresIn.Value.TotalMilliseconds + 100 > remaining)
                {
                    _log.Info("Lease {0} is held by {1}, which {2} cannot reach and which keeps renewing it; not acquired",
                        Settings.LeaseName, holder ?? "another node", Settings.OwnerName);
                    return false;
                }
                await Task.Delay(expiresIn.Value + TimeSpan.FromMilliseconds(50));
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            _log.Warning("Lease {0}: the database did not answer ({1}); not acquired", Settings.LeaseName, e.Message);
            return false;
        }
    }

    public override async Task<bool> Release()
    {
        StopHeartbeat();
        try
        {
            await ExecuteAsync("UPDATE kms_lease SET owner = NULL, expires_at = now() WHERE name = @name AND owner = @owner");
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            // It expires by itself.
            _log.Warning("Lease {0}: release failed ({1}); it expires within {2}", Settings.LeaseName, e.Message, Ttl);
            return false;
        }
    }

    public override bool CheckLease() => Environment.TickCount64 < Interlocked.Read(ref _heldUntil);

    private bool Acquired(Action<Exception?>? onLost, string how)
    {
        Held(onLost);
        _log.Info("Lease {0} {1} by {2}", Settings.LeaseName, how, Settings.OwnerName);
        return true;
    }

    /// <summary>The holder is a member of this node's cluster whose heartbeats this node itself receives (owner
    /// names are the members' system@host:port), or this node. This node's own failure detector, not the cluster's unreachable
    /// set: that set also holds members that only some other member cannot reach. When two members are cut from
    /// each other but not from this one, both are in it. Then the decider on this side is told to down both. It must
    /// be able to take the lease over from either, or it would down the whole cluster, itself included.</summary>
    private bool IsReachableMember(string holder)
    {
        var cluster = Akka.Cluster.Cluster.Get(_system);
        var state = cluster.State;
        return state.Members.Any(m => m.Address.HostPort() == holder &&
                                      m.Status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp &&
                                      (m.Address == cluster.SelfAddress ||
                                       // In a large cluster a node watches only some members; for the rest the
                                       // cluster's view is all there is.
                                       (cluster.FailureDetector.IsMonitoring(m.Address)
                                           ? cluster.FailureDetector.IsAvailable(m.Address)
                                           : !state.Unreachable.Contains(m))));
    }

    private void Held(Action<Exception?>? onLost)
    {
        lock (_gate)
        {
            _onLost = onLost;
            Interlocked.Exchange(ref _heldUntil, Environment.TickCount64 + (long)Ttl.TotalMilliseconds);
            _heartbeat ??= new Timer(_ => _ = RenewAsync(), null, Settings.TimeoutSettings.HeartbeatInterval,
                Settings.TimeoutSettings.HeartbeatInterval);
        }
    }

    /// <summary>The current holder and how long until its lease expires, by the database's clock.</summary>
    private async Task<(string? Holder, TimeSpan? ExpiresIn)> HolderAsync()
    {
        using var timeout = new CancellationTokenSource(Settings.TimeoutSettings.OperationTimeout);
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(timeout.Token);
        await using var command = new NpgsqlCommand(
            "SELECT owner, greatest(expires_at - now(), interval '0') FROM kms_lease WHERE name = @name", connection);
        command.Parameters.AddWithValue("name", Settings.LeaseName);
        await using var reader = await command.ExecuteReaderAsync(timeout.Token);
        if (!await reader.ReadAsync(timeout.Token)) return (null, null);
        return (reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetFieldValue<TimeSpan>(1));
    }

    private async Task RenewAsync()
    {
        try
        {
            var renewed = await ExecuteAsync(
                "UPDATE kms_lease SET expires_at = now() + @ttl WHERE name = @name AND owner = @owner") == 1;
            if (renewed)
            {
                Interlocked.Exchange(ref _heldUntil, Environment.TickCount64 + (long)Ttl.TotalMilliseconds);
                return;
            }
            Lost(null);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            if (!CheckLease())
            {
                Lost(e);
            }
        }
    }

    private void Lost(Exception? cause)
    {
        Action<Exception?>? callback;
        lock (_gate)
        {
            if (_heartbeat is null) return;
            callback = _onLost;
        }
        StopHeartbeat();
        _log.Warning("Lease {0} lost by {1}", Settings.LeaseName, Settings.OwnerName);
        callback?.Invoke(cause);
    }

    private void StopHeartbeat()
    {
        lock (_gate)
        {
            _heartbeat?.Dispose();
            _heartbeat = null;
            _onLost = null;
            Interlocked.Exchange(ref _heldUntil, 0);
        }
    }

    private async Task<int> ExecuteAsync(string sql, params (string Name, object Value)[] extra)
    {
        using var timeout = new CancellationTokenSource(Settings.TimeoutSettings.OperationTimeout);
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync(timeout.Token);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("name", Settings.LeaseName);
        command.Parameters.AddWithValue("owner", Settings.OwnerName);
        command.Parameters.AddWithValue("ttl", Ttl);
        foreach (var (name, value) in extra) command.Parameters.AddWithValue(name, value);
        return await command.ExecuteNonQueryAsync(timeout.Token);
    }
}
