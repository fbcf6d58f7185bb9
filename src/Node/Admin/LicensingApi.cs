using Akka.Actor;
using Akka.Hosting;
using KmsCluster.Domain;
using KmsCluster.Actors.Hosting;
using KmsCluster.Node.Activation;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Dns;
using KmsCluster.Node.Licensing;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Licensing;
using static KmsCluster.Actors.Licensing.LedgerProtocol;

namespace KmsCluster.Node.Admin;

/// <summary>The licensing part of the admin API: this host's licence, the host keys with their ledgers, and an
/// explicit re-activation. The answers are the records of KmsCluster.Protocol.Admin; README.md documents them.</summary>
public static class LicensingApi
{
    public static void MapLicensingApi(this WebApplication app)
    {
        app.MapGet("/api/v1/host", (HostLicence licence, HostIdentity host, DnsPublishingStatus dns) =>
        {
            var settings = licence.Settings;
            return Results.Json(new HostJson(
                host.Name,
                host.Id,
                new HostOsJson(licence.HostOs.Name, licence.HostOs.KindName),
                settings.CatalogSource,
                licence.Status,
                licence.Problems,
                settings.Authorities.Select(a => new AuthorityJson(a.Fingerprint, a.Source)).ToArray(),
                licence.Keys.Select(k => Key(k, licence.FileOf(k.Key.KeyId))).ToArray(),
                licence.Activates.Select(p => p.Slug).ToArray(),
                dns.Snapshot()), AdminJson.Http.HostJson);
        });

        app.MapGet("/api/v1/host-keys", async (HostLicence licence, HostIdentity host, ActorRegistry registry, NodeOptions options) =>
        {
            var region = registry.Get<HostKeyLedgerRegion>();
            var keys = await Task.WhenAll(licence.Keys.Select(async check =>
            {
                var key = Key(check, licence.FileOf(check.Key.KeyId));
                // Only a key this node's authority signed has a ledger worth asking for.
                if (check.Problem is HostKeyProblem.UnknownAuthority or HostKeyProblem.BadSignature)
                {
                    return new HostKeyLedgerJson(key, null, null, "no ledger: the key is not signed by an authority this node trusts");
                }
                try
                {
                    var view = await region.Ask<HostKeyLedgerView>(new GetHostKeyLedger(check.Key.KeyId), options.WindowTimeout);
                    return new HostKeyLedgerJson(key, view.Hosts.Select(h => HostInLedger(h, host.Id)).ToArray(), view.Owner, null);
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
                {
                    return new HostKeyLedgerJson(key, null, null, $"ledger unavailable, retry later: {e.Message}");
                }
            }));
            return Results.Json<IReadOnlyList<HostKeyLedgerJson>>(keys, AdminJson.Http.IReadOnlyListHostKeyLedgerJson);
        });

        app.MapPost("/api/v1/host-keys/{keyId}/reactivate", async (string keyId, HostLicence licence, HostKeyActivation activation,
            CancellationToken cancellationToken) =>
        {
            var check = licence.Keys.FirstOrDefault(k => k.Key.KeyId == keyId);
            if (check is null)
            {
                return AdminApi.Error(404, $"no host key \"{keyId}\" on this node; it has: {string.Join(", ", licence.Keys.Select(k => k.Key.KeyId))}");
            }
            if (licence.Settings.AuthorityUrl is { } authority)
            {
                return AdminApi.Error(409, $"this node's keys are activated by the licensing authority {authority}, which counts a re-activation itself when a host asks with a new key pair (a reinstalled data directory)");
            }
            if (check.Problem is not (HostKeyProblem.None or HostKeyProblem.HostLimitReached or HostKeyProblem.ReactivationLimitReached))
            {
                return AdminApi.Error(409, $"host key {keyId} cannot be re-activated here: {check.Reason}");
            }
            try
            {
                var result = await activation.ReactivateAsync(check.Key, cancellationToken);
                var self = result.Ledger.Hosts.FirstOrDefault(h => h.HostId == result.HostId);
                var body = new ReactivationJson(keyId, Outcome(result.Outcome), self?.Reactivations ?? 0, HostKey.MaxReactivations,
                    result.Ledger.Hosts.Length, check.Key.HostLimit);
                return Results.Json(body, AdminJson.Http.ReactivationJson, statusCode: result.Outcome is HostActivationOutcome.Reactivated or HostActivationOutcome.Activated ? 200 : 409);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
            {
                return AdminApi.Error(503, $"the host activation ledger did not answer, retry later: {e.Message}");
            }
        });
    }

    /// <summary>activated, already-active, reactivated, host-limit-reached, reactivation-limit-reached.</summary>
    public static string Outcome(HostActivationOutcome outcome) => outcome.Name();

    /// <summary>A key as the admin API shows it: its fields, its file, and whether it counts here (and why not).</summary>
    private static KeyJson Key(HostKeyCheck check, string file) => new(
        check.Key.KeyId, check.Key.Group, check.Key.Organisation, check.Key.IssuedAt, check.Key.ExpiresAt, check.Key.HostLimit,
        HostKey.MaxReactivations, check.Key.Authority, file,
        check.Problem switch { HostKeyProblem.None => "active", HostKeyProblem.Pending => "pending", _ => "refused" },
        HostKeyCheck.Name(check.Problem), check.Reason);

    private static LedgerHostJson HostInLedger(LedgerHost host, Guid self) =>
        new(host.HostId, host.HostName, host.FirstActivatedAt, host.LastActivatedAt, host.Reactivations, host.HostId == self);
}
