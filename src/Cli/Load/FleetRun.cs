using System.Diagnostics;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Cli.Load;

/// <summary>
/// Fleet mode: every simulated machine behaves as a KMS client. It asks when it boots; while not activated it asks
/// again after the activation interval, once activated it renews after the renewal interval (both from the host's
/// last answer; 120 min and 7 days until one came); an error or no answer makes it retry after the activation
/// interval. <see cref="LoadOptions.TimeScale"/> compresses the waiting (86400 = one simulated day per second);
/// the clock sent on the wire stays the real one, so hosts do not refuse it for clock skew.
/// </summary>
/// <remarks>
/// <see cref="LoadOptions.Connections"/> <see cref="KmsClient"/>s, each with the servers rotated so that clients
/// start spread round robin and fail over to the next server when one stops answering. Each client has
/// <see cref="LoadOptions.Pipeline"/> lanes; machine <c>i</c> belongs to lane <c>i mod lanes</c>, which keeps its
/// machines in a priority queue by due time. No lock: a machine is only ever touched by its lane. Latency counts
/// from the time the machine was due, so a boot storm shows the queueing it causes. With
/// <see cref="LoadOptions.ConnectPerRequest"/> (one lane per client) each request, and each failover attempt,
/// opens a connection of its own through the lane's <see cref="ConnectPerRequestClient"/>; a request that found no
/// host to connect to counts in the connect errors only, not as no-answer.
/// </remarks>
internal sealed class FleetRun : LoadRun
{
    private const uint DefaultActivationMinutes = 120;
    private const uint DefaultRenewalMinutes = 10080;
    private const long GraceMinutes = 30 * 24 * 60;
    private const long ValidityMilliseconds = 180L * 24 * 60 * 60 * 1000;

    private readonly KmsClient[] _clients;
    private readonly List<ConnectPerRequestClient> _perRequest = [];
    // Simulated milliseconds since the start until which each machine is activated; 0 = never.
    private readonly long[] _activatedUntil;
    private readonly int[] _attempts;
    private readonly long _limit;
    private long _sent;

    public FleetRun(LoadOptions options, Fleet fleet, Action<LoadProgress>? progress) : base(options, fleet, progress)
    {
        var servers = options.Servers;
        var clientOptions = new KmsClientOptions
        {
            ConnectTimeout = ConnectTimeout(options),
            RequestTimeout = options.Timeout,
            ProtocolVersion = options.ProtocolVersion,
            // Time to try every server once more than a full round.
            Deadline = options.Timeout * Math.Min(servers.Count + 1, 10),
        };
        _clients = new KmsClient[options.Connections];
        for (var c = 0; c < _clients.Length; c++)
        {
            var rotated = servers.Skip(c % servers.Count).Concat(servers.Take(c % servers.Count)).ToArray();
            _clients[c] = options.Discovery is { } discovery
                ? new KmsClient(rotated, clientOptions, discovery)
                : new KmsClient(rotated, clientOptions);
        }
        _activatedUntil = new long[fleet.Count];
        _attempts = new int[fleet.Count];
        _limit = options.Requests ?? long.MaxValue;
    }

    private protected override bool RunsForWholeDuration => true;

    private protected override Task ConnectAsync(CancellationToken cancellationToken) =>
        ProbeAsync(Options.Servers, ConnectTimeout(Options), cancellationToken);

    private protected override Task[] StartWorkers()
    {
        var laneCount = Options.Connections * Options.Pipeline;
        var lanes = new List<Task>();
        for (var lane = 0; lane < laneCount && lane < Fleet.Count; lane++)
        {
            var client = lane / Options.Pipeline;
            var first = lane;
            var shard = Stats.For(client);
            ConnectPerRequestClient? perRequest = null;
            if (Options.ConnectPerRequest)
            {
                _perRequest.Add(perRequest = new ConnectPerRequestClient(shard, Options.ProtocolVersion));
            }
            lanes.Add(Task.Run(() => LaneAsync(first, laneCount, _clients[client], perRequest, shard)));
        }
        return [.. lanes];
    }

    private protected override async ValueTask CloseAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }
        foreach (var perRequest in _perRequest)
        {
            perRequest.Dispose();
        }
    }

    private protected override FleetSummary FleetSummary(long endTimestamp)
    {
        var now = SimulatedMilliseconds(endTimestamp);
        var activated = 0;
        var neverAsked = 0;
        for (var i = 0; i < Fleet.Count; i++)
        {
            if (_activatedUntil[i] > now)
            {
                activated++;
            }
            if (_attempts[i] == 0)
            {
                neverAsked++;
            }
        }
        return new FleetSummary(Fleet.Count, activated, Fleet.Count - activated, _clients.Sum(c => c.FailoverCount), neverAsked);
    }

    private long SimulatedMilliseconds(long timestamp) =>
        (long)((timestamp - StartTimestamp) * (1000.0 * Options.TimeScale / Stopwatch.Frequency));

    /// <summary>The real timestamp <paramref name="minutes"/> simulated minutes after <paramref name="from"/>.</summary>
    private long After(long from, uint minutes)
    {
        var ticks = minutes * 60.0 / Options.TimeScale * Stopwatch.Frequency;
        return ticks >= long.MaxValue / 4 ? long.MaxValue / 2 : from + (long)ticks;
    }

    private async Task LaneAsync(int first, int stride, KmsClient client, ConnectPerRequestClient? perRequest, LoadStats.Shard shard)
    {
        var due = new PriorityQueue<int, long>();
        for (var machine = first; machine < Fleet.Count; machine += stride)
        {
            due.Enqueue(machine, Options.BootStorm
                ? StartTimestamp
                : StartTimestamp + (long)(Fleet.Phase(machine) * (After(0, DefaultActivationMinutes))));
        }
        var activationMinutes = DefaultActivationMinutes;
        var renewalMinutes = DefaultRenewalMinutes;
        while (!Stopping.IsCancellationRequested && due.TryPeek(out var machine, out var dueAt))
        {
            if (dueAt >= EndTimestamp)
            {
                return;
            }
            var wait = dueAt - Stopwatch.GetTimestamp();
            if (wait > Stopwatch.Frequency / 1000)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(Math.Min(wait * 1000.0 / Stopwatch.Frequency, 3_600_000))), Stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            if (Interlocked.Increment(ref _sent) > _limit)
            {
                return;
            }
            due.Dequeue();
            _attempts[machine]++;

            var now = SimulatedMilliseconds(Stopwatch.GetTimestamp());
            var activated = _activatedUntil[machine] > now;
            var request = activated
                ? RequestFor(machine, LicenseState.Licensed, (uint)((_activatedUntil[machine] - now) / 60_000))
                : now < GraceMinutes * 60_000
                    ? RequestFor(machine, LicenseState.InitialGrace, (uint)(GraceMinutes - now / 60_000))
                    : RequestFor(machine, LicenseState.Notification, 0);
            uint next;
            // From the due time, or from the send when that is (less than a millisecond) earlier.
            var since = Math.Min(dueAt, Stopwatch.GetTimestamp());
            try
            {
                var answer = perRequest is null
                    ? await client.RequestAsync(request, Abandoning)
                    : await client.RequestOnOwnConnectionAsync(request, perRequest, Abandoning);
                shard.Record(answer.Result, LoadStats.MicrosecondsSince(since));
                if (answer.Result.IsError)
                {
                    next = activationMinutes;
                }
                else
                {
                    var response = answer.Result.Response;
                    activationMinutes = Math.Max(1, response.ActivationIntervalMinutes);
                    renewalMinutes = Math.Max(1, response.RenewalIntervalMinutes);
                    if (response.Activated)
                    {
                        _activatedUntil[machine] = SimulatedMilliseconds(Stopwatch.GetTimestamp()) + ValidityMilliseconds;
                        next = renewalMinutes;
                    }
                    else
                    {
                        next = activationMinutes;
                    }
                }
            }
            catch (KmsConnectionException)
            {
                // With a connection per request, a request whose last attempt found no host to connect to is not one
                // that went unanswered: its failures to connect are counted already.
                if (perRequest?.LastExchangeConnected != false)
                {
                    shard.RecordNoAnswer();
                }
                next = activationMinutes;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && Abandoning.IsCancellationRequested)
            {
                return;
            }
            due.Enqueue(machine, After(Stopwatch.GetTimestamp(), next));
        }
    }
}
