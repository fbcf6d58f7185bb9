using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using KmsCluster.Actors.Hosting;
using KmsCluster.Node.Activation;
using KmsCluster.Node.Configuration;
using KmsCluster.Protocol.Catalog;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Node.Admin;

/// <summary>The admin HTTP API (loopback by default): health, windows, stats. JSON shapes are in README.md.</summary>
public static class AdminApi
{
    public static void MapAdminApi(this WebApplication app)
    {
        app.MapGet("/healthz", (ActorSystem system, HostIdentity host, IHostApplicationLifetime lifetime) =>
        {
            var member = Cluster.Get(system).SelfMember;
            var status = lifetime.ApplicationStopping.IsCancellationRequested ? "stopping"
                : member.Status == MemberStatus.Up ? "ok"
                : "starting";
            var body = new HealthJson(status, host.Name, host.Id, member.Status.ToString());
            return Results.Json(body, statusCode: status == "ok" ? 200 : 503);
        });

        app.MapGet("/api/v1/windows", async (ActorRegistry registry, ProductCatalog catalog, NodeOptions options) =>
        {
            var region = registry.Get<ActivationWindowRegion>();
            try
            {
                var views = await Task.WhenAll(catalog.Applications.Select(a => AskWindow(region, a, options)));
                return Results.Json(views.Select(v => WindowJson.From(v.Application, v.View, catalog)));
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
            {
                return Unavailable(e);
            }
        });

        app.MapGet("/api/v1/windows/{application}", async (string application, ActorRegistry registry,
            ProductCatalog catalog, NodeOptions options) =>
        {
            if (catalog.FindApplication(application) is not { } found)
            {
                return Results.Json(new ErrorJson($"unknown application \"{application}\"; known: {string.Join(", ", catalog.Applications.Select(a => a.Slug))}"),
                    statusCode: 404);
            }
            try
            {
                var (app1, view) = await AskWindow(registry.Get<ActivationWindowRegion>(), found, options);
                return Results.Json(WindowJson.From(app1, view, catalog));
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
            {
                return Unavailable(e);
            }
        });

        app.MapGet("/api/v1/stats", (NodeStats stats, HostIdentity host) => Results.Json(new StatsJson(
            host.Name, host.Id, stats.StartedAt, stats.Total, stats.FailedCount, stats.Activated, stats.NotActivated,
            stats.ByLicenseState(), stats.ByError())));
    }

    private static async Task<(KmsApplication Application, WindowView View)> AskWindow(IActorRef region,
        KmsApplication application, NodeOptions options) =>
        (application, await region.Ask<WindowView>(new GetWindow(application.Id), options.WindowTimeout));

    private static IResult Unavailable(Exception e) =>
        Results.Json(new ErrorJson($"window unavailable, retry later: {e.Message}"), statusCode: 503);
}

public sealed record HealthJson(string Status, string Node, Guid HostId, string Member);

public sealed record ErrorJson(string Error);

public sealed record StatsJson(
    string Node,
    Guid HostId,
    DateTimeOffset StartedAt,
    long Total,
    long Failed,
    long Activated,
    long NotActivated,
    IReadOnlyDictionary<string, long> ByLicenseState,
    IReadOnlyDictionary<string, long> ByError);

public sealed record ThresholdJson(string Kind, int Threshold, bool Reached);

public sealed record ContactJson(
    Guid Cmid,
    string Product,
    string ProductName,
    string Workstation,
    string? OtherWorkstation,
    bool VirtualMachine,
    DateTimeOffset LastContact);

public sealed record WindowJson(
    string Application,
    Guid ApplicationId,
    string Name,
    int Count,
    int Capacity,
    int HighestThreshold,
    IReadOnlyList<ThresholdJson> Thresholds,
    long Requests,
    long Activated,
    long NotActivated,
    DateTimeOffset? LastContact,
    string Owner,
    DateTimeOffset AsOf,
    IReadOnlyList<ContactJson> Contacts)
{
    public static WindowJson From(KmsApplication application, WindowView view, ProductCatalog catalog)
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
            view.LastRecordedAt, view.Owner, view.AsOf, contacts);
    }
}
