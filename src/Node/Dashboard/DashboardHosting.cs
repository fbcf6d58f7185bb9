using KmsCluster.Protocol.Admin;

namespace KmsCluster.Node.Dashboard;

/// <summary>
/// The web dashboard on the admin endpoint: <c>/dashboard</c> serves one page and its script and style, built into
/// the node (no CDN, works offline); the page reads the admin API with the token it is given in the address's
/// fragment (<c>/dashboard#token=…</c>, which browsers never send to a server) and keeps it for the tab. Also the
/// last hour of activity it charts, <c>GET /api/v1/stats/history</c>.
/// </summary>
public static class DashboardHosting
{
    /// <summary>The dashboard's static files: open without a token, they hold no data.</summary>
    public static readonly IReadOnlyDictionary<string, (string Resource, string ContentType)> Files =
        new Dictionary<string, (string, string)>
        {
            ["/dashboard"] = ("dashboard/index.html", "text/html; charset=utf-8"),
            ["/dashboard/app.js"] = ("dashboard/app.js", "text/javascript; charset=utf-8"),
            ["/dashboard/app.css"] = ("dashboard/app.css", "text/css; charset=utf-8"),
        };

    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddSingleton<LatencyRecorder>();
        services.AddSingleton<ActivityHistory>();
        services.AddHostedService(provider => provider.GetRequiredService<ActivityHistory>());
        return services;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        foreach (var (path, (resource, contentType)) in Files)
        {
            var bytes = Read(resource);
            app.MapGet(path, () => Results.Bytes(bytes, contentType));
        }
        app.MapGet("/api/v1/stats/history", (ActivityHistory history) => Results.Json(history.Snapshot(), AdminJson.Http.ActivityJson));
        return app;
    }

    private static byte[] Read(string resource)
    {
        using var stream = typeof(DashboardHosting).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"the node was built without its dashboard file {resource}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
