using KmsCluster.Protocol.Admin;

namespace KmsCluster.Node.Admin;

/// <summary>
/// Every admin request needs the node's <see cref="AdminToken"/>, whatever its path (an unknown path answers 401
/// too, so paths cannot be probed), except the two orchestrator probes, which answer only Healthy or Unhealthy.
/// </summary>
public static class AdminAuthentication
{
    /// <summary>The paths open without a token: their answers carry no data (the dashboard's page reads the API with
    /// the token the user gives it).</summary>
    public static readonly IReadOnlyList<string> OpenPaths = ["/healthz/live", "/healthz/ready", .. Dashboard.DashboardHosting.Files.Keys];

    public static WebApplication UseAdminToken(this WebApplication app, AdminToken token)
    {
        app.Use((context, next) =>
        {
            var open = OpenPaths.Any(p => context.Request.Path.Equals(p, StringComparison.Ordinal));
            if (open || token.Accepts(context.Request.Headers.Authorization))
            {
                return next(context);
            }
            // Says what is expected, never why the token given did not match.
            context.Response.Headers.WWWAuthenticate = AdminAuth.Scheme;
            return AdminApi.Error(401, $"this admin API needs Authorization: {AdminAuth.Scheme} <token> (the file {AdminAuth.TokenFile} in the node's data directory, or its --admin-token-file)")
                .ExecuteAsync(context);
        });
        return app;
    }
}
