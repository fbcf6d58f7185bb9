using Akka.Actor;
using KmsCluster.Actors.Gateway;
using Akka.Cluster;
using KmsCluster.Node.Clustering;
using KmsCluster.Node.Persistence;
using Akka.Hosting;
using KmsCluster.Actors.Hosting;
using KmsCluster.Node.Activation;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Dns;
using KmsCluster.Node.Hosting;
using KmsCluster.Node.RequestLogging;
using System.Reflection;
using KmsCluster.Node.Licensing;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Catalog;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Node.Admin;

/// <summary>The admin HTTP API (loopback by default): windows, cluster, stats, the node itself (health: <see cref="NodeHealthCheck"/>).
/// The answers are the records of KmsCluster.Protocol.Admin written by <see cref="AdminJson"/>; README.md documents them.</summary>
public static class AdminApi
{
    public static void MapAdminApi(this WebApplication app)
    {
        app.MapGet("/api/v1/windows", async (ActorRegistry registry, ProductCatalog catalog, NodeOptions options) =>
        {
            var region = registry.Get<ActivationWindowRegion>();
            var gateways = ((ContactGatewaysRef)registry.Get<ContactGatewaysRef>()).Gateways;
            // Each window on its own: one whose owner is down is listed as unreachable, the others still answer.
            var asked = await Task.WhenAll(catalog.Applications.Select(async a =>
            {
                try
                {
                    var (application, view) = await AskWindow(region, a, options);
                    return ((WindowJson?)Window(application, view, catalog, gateways), (UnreachableWindowJson?)null);
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
                {
                    return ((WindowJson?)null, new UnreachableWindowJson(a.Slug, $"window unavailable, retry later: {e.Message}"));
                }
            }));
            return Results.Json(new WindowsJson([.. asked.Select(w => w.Item1).OfType<WindowJson>()],
                [.. asked.Select(w => w.Item2).OfType<UnreachableWindowJson>()]), AdminJson.Http.WindowsJson);
        });

        app.MapGet("/api/v1/windows/{application}", async (string application, ActorRegistry registry,
            ProductCatalog catalog, NodeOptions options) =>
        {
            if (catalog.FindApplication(application) is not { } found)
            {
                return Error(404, $"unknown application \"{application}\"; known: {string.Join(", ", catalog.Applications.Select(a => a.Slug))}");
            }
            try
            {
                var (app1, view) = await AskWindow(registry.Get<ActivationWindowRegion>(), found, options);
                return Results.Json(Window(app1, view, catalog, ((ContactGatewaysRef)registry.Get<ContactGatewaysRef>()).Gateways),
                    AdminJson.Http.WindowJson);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
            {
                return Unavailable(e);
            }
        });

        app.MapGet("/api/v1/cluster", async (ActorSystem system, ActorRegistry registry, ProductCatalog catalog,
            NodeOptions options, JournalStore store) =>
        {
            var cluster = Akka.Cluster.Cluster.Get(system);
            var state = cluster.State;
            var oldest = state.Members.Where(m => m.Status == MemberStatus.Up)
                .Aggregate((Member?)null, (found, m) => found is null || m.IsOlderThan(found) ? m : found);
            var members = state.Members.Select(m => new MemberJson(m.Address.ToString(), m.Status.ToString(),
                m.Roles.Order().ToArray(), !state.Unreachable.Contains(m), m == oldest, m.Address == cluster.SelfAddress))
                .ToArray();
            // Who owns a window is where it answers from; ask each with a short timeout.
            var region = registry.Get<ActivationWindowRegion>();
            var timeout = TimeSpan.FromMilliseconds(Math.Min(options.WindowTimeout.TotalMilliseconds, 3000));
            var windows = await Task.WhenAll(catalog.Applications.Select(async application =>
            {
                try
                {
                    var view = await region.Ask<WindowView>(new GetWindow(application.Id), timeout);
                    return new WindowOwnerJson(application.Slug, view.Owner);
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
                {
                    return new WindowOwnerJson(application.Slug, null);
                }
            }));
            return Results.Json(new ClusterJson(cluster.SelfAddress.ToString(), cluster.SelfMember.Status.ToString(),
                state.Leader?.ToString(), oldest?.Address.ToString(), store.Kind, ClusterConfig.Name(options.SplitBrain),
                members, windows), AdminJson.Http.ClusterJson);
        });

        app.MapGet("/api/v1/stats", (NodeStats stats, HostIdentity host, RequestLog requestLog,
            Registry.RegistryFeed registryFeed, Limits.LimitStats limits, Limits.ConnectionLimiter connections,
            Limits.NodePendingAnswers pending, Limits.SourceRateLimiter rate) => Results.Json(new StatsJson(
            host.Name, host.Id, stats.StartedAt, stats.Total, stats.FailedCount, stats.Activated, stats.NotActivated,
            stats.ByLicenseState(), stats.ByError(), RequestLogCounters(requestLog), registryFeed.Stats(),
            new LimitsJson(connections.Open, limits.RefusedNodeConnections, limits.RefusedSourceConnections, limits.FrameTimeouts,
                limits.BrokenStreams, limits.ThrottledSourceRequests, limits.ThrottledNodeRequests, pending.Pending, rate.Buckets,
                limits.SourceHoldOffs)),
            AdminJson.Http.StatsJson));

        app.MapGet("/api/v1/node", (NodeStats stats, HostIdentity host, NodeOptions options, ActivationEndpoints activation,
            AdminEndpoints admin, ActorSystem system, JournalStore store) => Results.Json(new NodeJson(
            host.Name, host.Id, NodeVersion, activation.Describe(), admin.Describe().FirstOrDefault() ?? options.Admin.ToString(),
            Akka.Cluster.Cluster.Get(system).SelfAddress.ToString(), store.Kind, options.ActivationIntervalMinutes,
            options.RenewalIntervalMinutes, stats.StartedAt, Math.Round((DateTimeOffset.UtcNow - stats.StartedAt).TotalSeconds, 1),
            options.RequestLog?.Destination), AdminJson.Http.NodeJson));
    }

    /// <summary>The node's build version, as kms-node --version prints it.</summary>
    private static readonly string NodeVersion =
        typeof(AdminApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(AdminApi).Assembly.GetName().Version?.ToString() ?? "unknown";

    private static RequestLogJson? RequestLogCounters(RequestLog log) => log.Settings is { } settings
        ? new RequestLogJson(settings.Destination, settings.MaxSizeBytes, settings.Files, log.Written, log.Dropped, log.WriteErrors,
            log.Rotations)
        : null;

    private static async Task<(KmsApplication Application, WindowView View)> AskWindow(IActorRef region,
        KmsApplication application, NodeOptions options) =>
        (application, await region.Ask<WindowView>(new GetWindow(application.Id), options.WindowTimeout));

    private static IResult Unavailable(Exception e) => Error(503, $"window unavailable, retry later: {e.Message}");

    /// <summary>An error answer of the admin API: the status and <see cref="ErrorJson"/>.</summary>
    internal static IResult Error(int statusCode, string message) =>
        Results.Json(new ErrorJson(message), AdminJson.Http.ErrorJson, statusCode: statusCode);

    private static WindowJson Window(KmsApplication application, WindowView view, ProductCatalog catalog,
        ContactGateways gateways)
    {
        var thresholds = catalog.Products.Where(p => p.Application.Id == application.Id)
            .GroupBy(p => (p.Kind, p.Threshold))
            .Select(g => new ThresholdJson(ProductCatalog.KindName(g.Key.Kind), g.Key.Threshold, view.Count >= g.Key.Threshold))
            .ToArray();
        var contacts = view.Contacts.Select(c =>
        {
            var known = catalog.TryGetProduct(c.ProductId, out var product);
            return new ContactJson(c.ClientMachineId, known ? product.Slug : c.ProductId.ToString(),
                known ? product.Name : "(not in this host's catalogue)", c.Workstation, c.OtherWorkstation,
                c.IsVirtualMachine, c.LastContact);
        }).ToArray();
        return new WindowJson(application.Slug, application.Id, application.Name, view.Count, view.Capacity,
            view.HighestThreshold, thresholds, view.Requests, view.Activated, view.Requests - view.Activated,
            view.LastRecordedAt, view.Owner, view.AsOf, contacts,
            gateways.GrantOf(application.Id) is { } grant
                ? new GrantJson(grant.Epoch, grant.Capacity, grant.HighestThreshold, grant.IssuedAt, grant.FullUntil,
                    grant.Lease.TotalSeconds)
                : null);
    }
}
