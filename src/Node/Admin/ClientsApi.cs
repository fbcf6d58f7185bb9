using System.Data.Common;
using KmsCluster.Node.Registry;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Node.Admin;

/// <summary><c>GET /api/v1/clients</c> (a filtered page of the client registry) and <c>GET /api/v1/clients/{cmid}</c>
/// (every row of one machine). Malformed parameters get 400 naming the parameter; the registry's database
/// unreachable gets 503 saying so.</summary>
public static class ClientsApi
{
    public static void MapClientsApi(this WebApplication app)
    {
        app.MapGet("/api/v1/clients", async (HttpRequest request, ClientRegistryStore store, ProductCatalog catalog,
            TimeProvider time, CancellationToken cancellationToken) =>
        {
            if (!ClientQueryParser.TryParse(request.Query, catalog, time.GetUtcNow(), out var query, out var error))
            {
                return AdminApi.Error(400, error);
            }
            try
            {
                var (page, more) = await store.QueryAsync(query, cancellationToken);
                return Results.Json(new ClientsPageJson(page.Select(c => Json(c, catalog)).ToArray(),
                    more ? page[^1].Cursor.Encode() : null), AdminJson.Http.ClientsPageJson);
            }
            catch (Exception e) when (e is DbException or TimeoutException)
            {
                return Unreachable(e);
            }
        });

        app.MapGet("/api/v1/clients/{cmid}", async (string cmid, ClientRegistryStore store, ProductCatalog catalog,
            CancellationToken cancellationToken) =>
        {
            if (!Guid.TryParse(cmid, out var id))
            {
                return AdminApi.Error(400, $"cmid: \"{cmid}\" is not a GUID (e.g. 3f2504e0-4f89-11d3-9a0c-0305e82c3301)");
            }
            try
            {
                var rows = await store.FindAsync(id, cancellationToken);
                if (rows.Count == 0)
                {
                    return AdminApi.Error(404, $"the client registry has no machine with CMID {id}");
                }
                return Results.Json(new ClientMachineJson(id, rows.Select(r => r.Workstation).Distinct().Count() > 1,
                    rows.Select(c => Json(c, catalog)).ToArray()), AdminJson.Http.ClientMachineJson);
            }
            catch (Exception e) when (e is DbException or TimeoutException)
            {
                return Unreachable(e);
            }
        });
    }

    private static IResult Unreachable(Exception e) =>
        AdminApi.Error(503, $"the client registry's database could not be reached, retry later: {e.Message}");

    private static ClientJson Json(StoredClient c, ProductCatalog catalog) => new(
        c.Cmid,
        c.Workstation,
        catalog.TryGetApplication(c.ApplicationId, out var application) ? application.Slug : c.ApplicationId.ToString(),
        catalog.TryGetProduct(c.ProductId, out var product) ? product.Slug : c.ProductId.ToString(),
        c.VirtualMachine,
        c.FirstContact,
        c.LastContact,
        c.LastCount,
        c.Activated,
        c.ValidUntil,
        c.Node,
        c.Cloned);
}
