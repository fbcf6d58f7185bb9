using Akka.Actor;
using Akka.Hosting;
using KmsCluster.Domain;
using KmsCluster.Actors.Hosting;
using KmsCluster.Node.Activation;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Dns;
using KmsCluster.Node.Licensing;
using KmsCluster.Protocol.Licensing;
using static KmsCluster.Actors.Licensing.LedgerProtocol;

namespace KmsCluster.Node.Admin;

/// <summary>The licensing part of the admin API: this host's licence, the host keys with their ledgers, and an
/// explicit re-activation. JSON shapes are in README.md.</summary>
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
                licence.Keys.Select(k => KeyJson.From(k, licence.FileOf(k.Key.KeyId))).ToArray(),
                licence.Activates.Select(p => p.Slug).ToArray(),
                dns.Snapshot()));
        });

        app.MapGet("/api/v1/host-keys", async (HostLicence licence, HostIdentity host, ActorRegistry registry, NodeOptions options) =>
        {
            var region = registry.Get<HostKeyLedgerRegion>();
            var keys = await Task.WhenAll(licence.Keys.Select(async check =>
            {
                var key = KeyJson.From(check, licence.FileOf(check.Key.KeyId));
                // Only a key this node's authority signed has a ledger worth asking for.
                if (check.Problem is HostKeyProblem.UnknownAuthority or HostKeyProblem.BadSignature)
                {
                    return new HostKeyLedgerJson(key, null, null, "no ledger: the key is not signed by an authority this node trusts");
                }
                try
                {
                    var view = await region.Ask<HostKeyLedgerView>(new GetHostKeyLedger(check.Key.KeyId), options.WindowTimeout);
                    return new HostKeyLedgerJson(key, view.Hosts.Select(h => LedgerHostJson.From(h, host.Id)).ToArray(), view.Owner, null);
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
                {
                    return new HostKeyLedgerJson(key, null, null, $"ledger unavailable, retry later: {e.Message}");
                }
            }));
            return Results.Json(keys);
        });

        app.MapPost("/api/v1/host-keys/{keyId}/reactivate", async (string keyId, HostLicence licence, HostKeyActivation activation,
            CancellationToken cancellationToken) =>
        {
            var check = licence.Keys.FirstOrDefault(k => k.Key.KeyId == keyId);
            if (check is null)
            {
                return Results.Json(new ErrorJson($"no host key \"{keyId}\" on this node; it has: {string.Join(", ", licence.Keys.Select(k => k.Key.KeyId))}"),
                    statusCode: 404);
            }
            if (check.Problem is not (HostKeyProblem.None or HostKeyProblem.HostLimitReached or HostKeyProblem.ReactivationLimitReached))
            {
                return Results.Json(new ErrorJson($"host key {keyId} cannot be re-activated here: {check.Reason}"), statusCode: 409);
            }
            try
            {
                var result = await activation.ReactivateAsync(check.Key, cancellationToken);
                var self = result.Ledger.Hosts.FirstOrDefault(h => h.HostId == result.HostId);
                var body = new ReactivationJson(keyId, Outcome(result.Outcome), self?.Reactivations ?? 0, HostKey.MaxReactivations,
                    result.Ledger.Hosts.Length, check.Key.HostLimit);
                return Results.Json(body, statusCode: result.Outcome is HostActivationOutcome.Reactivated or HostActivationOutcome.Activated ? 200 : 409);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
            {
                return Results.Json(new ErrorJson($"the host activation ledger did not answer, retry later: {e.Message}"), statusCode: 503);
            }
        });
    }

    /// <summary>activated, already-active, reactivated, host-limit-reached, reactivation-limit-reached.</summary>
    public static string Outcome(HostActivationOutcome outcome) => outcome switch
    {
        HostActivationOutcome.Activated => "activated",
        HostActivationOutcome.AlreadyActive => "already-active",
        HostActivationOutcome.Reactivated => "reactivated",
        HostActivationOutcome.HostLimitReached => "host-limit-reached",
        HostActivationOutcome.ReactivationLimitReached => "reactivation-limit-reached",
        _ => outcome.ToString(),
    };
}

public sealed record HostJson(
    string Node,
    Guid HostId,
    HostOsJson HostOs,
    string Catalog,
    string Licence,
    IReadOnlyList<string> Problems,
    IReadOnlyList<AuthorityJson> TrustedAuthorities,
    IReadOnlyList<KeyJson> Keys,
    IReadOnlyList<string> Activates,
    DnsStatusJson Dns);

public sealed record HostOsJson(string Name, string Kind);

public sealed record AuthorityJson(string Fingerprint, string File);

/// <param name="Status">active, pending or refused.</param>
/// <param name="Problem">ok, pending, expired, bad-signature, unknown-authority, unknown-group, not-hostable,
/// host-limit-reached, reactivation-limit-reached.</param>
public sealed record KeyJson(
    string KeyId,
    string Group,
    string Organisation,
    DateTimeOffset IssuedAt,
    DateTimeOffset? ExpiresAt,
    int MaxHosts,
    int MaxReactivations,
    string Authority,
    string File,
    string Status,
    string Problem,
    string Reason)
{
    public static KeyJson From(HostKeyCheck check, string file) => new(
        check.Key.KeyId, check.Key.Group, check.Key.Organisation, check.Key.IssuedAt, check.Key.ExpiresAt, check.Key.HostLimit,
        HostKey.MaxReactivations, check.Key.Authority, file,
        check.Problem switch { HostKeyProblem.None => "active", HostKeyProblem.Pending => "pending", _ => "refused" },
        HostKeyCheck.Name(check.Problem), check.Reason);
}

public sealed record HostKeyLedgerJson(KeyJson Key, IReadOnlyList<LedgerHostJson>? Hosts, string? Owner, string? Error);

public sealed record LedgerHostJson(Guid HostId, string Name, DateTimeOffset FirstActivatedAt, DateTimeOffset LastActivatedAt,
    int Reactivations, bool Self)
{
    public static LedgerHostJson From(LedgerHost host, Guid self) =>
        new(host.HostId, host.HostName, host.FirstActivatedAt, host.LastActivatedAt, host.Reactivations, host.HostId == self);
}

public sealed record ReactivationJson(string KeyId, string Outcome, int Reactivations, int MaxReactivations, int Hosts, int MaxHosts);
