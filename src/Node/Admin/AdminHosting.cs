using System.Text.Json;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Dns;
using KmsCluster.Node.Hosting;
using KmsCluster.Protocol.Admin;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KmsCluster.Node.Admin;

/// <summary>The admin HTTP API on --admin (HTTP/1.1): health endpoints and the JSON API (<see cref="AdminApi"/>,
/// <see cref="LicensingApi"/>, the DNS status).</summary>
public static class AdminHosting
{
    /// <summary>Tag of the checks behind /healthz/ready; Akka.Cluster.Hosting's readiness check carries it too.</summary>
    private const string Ready = "ready";

    /// <summary>Tag of Akka.Hosting's actor system liveness check, behind /healthz/live.</summary>
    private const string Liveness = "liveness";

    public static WebApplicationBuilder AddAdminApi(this WebApplicationBuilder builder, NodeOptions options)
    {
        var endpoints = new AdminEndpoints();
        builder.Services.AddSingleton(endpoints);
        builder.WebHost.ConfigureKestrel(kestrel =>
            endpoints.Listen(kestrel, options.Admin, listen => listen.Protocols = HttpProtocols.Http1));
        builder.Services.AddHealthChecks().AddCheck<NodeHealthCheck>(NodeHealthCheck.Name, tags: [Ready]);
        return builder;
    }

    public static WebApplication MapAdminEndpoints(this WebApplication app)
    {
        // Today's /healthz: the node's own check, its JSON body, 200 or 503.
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = check => check.Name == NodeHealthCheck.Name,
            ResponseWriter = WriteNodeHealth,
        });
        // For orchestrators: the process and its actor system run / the node takes traffic.
        app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = check => check.Tags.Contains(Liveness) });
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(Ready) });
        app.MapAdminApi();
        app.MapClientsApi();
        app.MapDnsApi();
        app.MapLicensingApi();
        app.MapHostCertificateApi();
        return app;
    }

    private static Task WriteNodeHealth(HttpContext context, HealthReport report)
    {
        var body = report.Entries.TryGetValue(NodeHealthCheck.Name, out var entry) &&
                   entry.Data.TryGetValue(NodeHealthCheck.BodyKey, out var value) ? value as HealthJson : null;
        if (body is null)
        {
            // The check itself failed (threw); say so in the shape clients expect an error in.
            return AdminApi.Error(503, entry.Exception?.Message ?? "health check failed").ExecuteAsync(context);
        }
        return Results.Json(body, AdminJson.Http.HealthJson, statusCode: body.Status == "ok" ? 200 : 503).ExecuteAsync(context);
    }
}
