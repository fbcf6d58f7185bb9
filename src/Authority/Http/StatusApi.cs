using KmsCluster.Authority.Activation;
using KmsCluster.Authority.Storage;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Authority.Http;

/// <summary>GET /api/v1/health and GET /api/v1/host-keys/{keyId}.</summary>
public static class StatusApi
{
    public static IEndpointRouteBuilder MapStatusApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/health", async (HostActivations activations, IActivationStore store, CancellationToken cancellationToken) =>
        {
            try
            {
                await store.PingAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return ActivationApi.Error(StatusCodes.Status503ServiceUnavailable, "store-unavailable",
                    $"the store {store.Location} does not answer: {e.Message.ReplaceLineEndings(" ")}");
            }
            return Results.Json(new HealthAnswer("ok", activations.Authority.Fingerprint, store.Kind, store.Location),
                AuthorityJson.Relaxed.HealthAnswer);
        });

        app.MapGet("/api/v1/host-keys/{keyId}", async (string keyId, IActivationStore store, CancellationToken cancellationToken) =>
        {
            if (!HostKey.IsValidKeyId(keyId))
            {
                return ActivationApi.Error(StatusCodes.Status400BadRequest, ActivationRefused.InvalidRequest,
                    $"\"{keyId}\" is not a key id (a-z, 0-9 and '-', 1 to 64 characters)");
            }
            try
            {
                var hosts = await store.HostsAsync(keyId, cancellationToken);
                var records = hosts.Select(h => new RecordedHost(h.HostId.ToString("D"), h.HostName,
                    HostKey.FormatTime(h.FirstActivatedAt), HostKey.FormatTime(h.LastActivatedAt), h.Reactivations)).ToArray();
                return Results.Json(new HostKeyRecord(keyId, records.Length, records), AuthorityJson.Relaxed.HostKeyRecord);
            }
            catch (StoreUnavailableException e)
            {
                return ActivationApi.Error(StatusCodes.Status503ServiceUnavailable, "store-unavailable", e.Message);
            }
        });
        return app;
    }
}
