using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using KmsCluster.Actors;
using KmsCluster.Actors.Hosting;

namespace KmsCluster.Node.Telemetry;

/// <summary>
/// Cluster membership as this node sees it, and the shards and entities it hosts, as observable gauges of the
/// KmsCluster meter. Membership comes from the cluster's own state snapshot (no messaging); shard counts need an
/// ask to each local shard region, so they are refreshed in the background and a scrape reads the last answer.
/// </summary>
public sealed partial class ClusterMetrics : BackgroundService
{
    public const string Members = "kms.cluster.members";
    public const string Unreachable = "kms.cluster.unreachable_members";
    public const string Shards = "kms.cluster.shards";
    public const string Entities = "kms.cluster.entities";

    /// <summary>How often shard counts are asked for; a scrape sees them at most this old.</summary>
    internal static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);

    private static readonly (MemberStatus Status, KeyValuePair<string, object?>[] Tags)[] StatusTags =
        Enum.GetValues<MemberStatus>().Select(s => (s, new KeyValuePair<string, object?>[] { new("status", StatusName(s)) })).ToArray();

    private static readonly (Type Region, KeyValuePair<string, object?>[] Tags)[] Regions =
    [
        (typeof(ActivationWindowRegion), [new("type", ActivationWindowsHosting.ShardTypeName)]),
        (typeof(HostKeyLedgerRegion), [new("type", HostKeyLedgerHosting.ShardTypeName)]),
    ];

    private readonly ActorSystem _system;
    private readonly ActorRegistry _registry;
    private readonly ILogger<ClusterMetrics> _log;

    /// <summary>Shards and entities per region (index of <see cref="Regions"/>); null until first answered.</summary>
    private volatile HostedShards?[] _hosted = new HostedShards?[Regions.Length];

    public ClusterMetrics(ActorSystem system, ActorRegistry registry, IMeterFactory meters, ILogger<ClusterMetrics> log)
    {
        _system = system;
        _registry = registry;
        _log = log;
        var meter = meters.Create(KmsMetrics.MeterName);
        meter.CreateObservableGauge(Members, ObserveMembers, "{member}", "Cluster members by status, as this node sees them");
        meter.CreateObservableGauge(Unreachable, () => Cluster.Get(_system).State.Unreachable.Count, "{member}",
            "Members this node's failure detector finds unreachable");
        meter.CreateObservableGauge(Shards, () => ObserveHosted(h => h.Shards), "{shard}", "Shards hosted on this node, by entity type");
        meter.CreateObservableGauge(Entities, () => ObserveHosted(h => h.Entities), "{entity}",
            "Entities (windows, host key ledgers) running on this node, by entity type");
    }

    private IEnumerable<Measurement<int>> ObserveMembers()
    {
        var members = Cluster.Get(_system).State.Members;
        foreach (var (status, tags) in StatusTags)
        {
            yield return new Measurement<int>(members.Count(m => m.Status == status), tags);
        }
    }

    private IEnumerable<Measurement<int>> ObserveHosted(Func<HostedShards, int> value)
    {
        var hosted = _hosted;
        for (var i = 0; i < Regions.Length; i++)
        {
            if (hosted[i] is { } h)
            {
                yield return new Measurement<int>(value(h), Regions[i].Tags);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval);
        do
        {
            var hosted = new HostedShards?[Regions.Length];
            for (var i = 0; i < Regions.Length; i++)
            {
                hosted[i] = await AskRegion(Regions[i].Region, stoppingToken) ?? _hosted[i];
            }
            _hosted = hosted;
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task<HostedShards?> AskRegion(Type key, CancellationToken cancellationToken)
    {
        if (!_registry.TryGet(key, out var region))
        {
            return null;
        }
        try
        {
            var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, AskTimeout, cancellationToken);
            return new HostedShards(state.Shards.Count, state.Shards.Sum(s => s.EntityIds.Count));
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            // A busy or stopping region: keep the last counts rather than report none.
            if (!cancellationToken.IsCancellationRequested) LogNoAnswer(key.Name, e.Message);
            return null;
        }
    }

    /// <summary>up, weakly-up, preparing-for-shutdown: Akka's MemberStatus names in the style of the other tags.</summary>
    internal static string StatusName(MemberStatus status) =>
        string.Concat(status.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    private sealed record HostedShards(int Shards, int Entities);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Shard counts of {Region} not refreshed: {Reason}")]
    private partial void LogNoAnswer(string region, string reason);
}
