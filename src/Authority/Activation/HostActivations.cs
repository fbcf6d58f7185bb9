using System.Security.Cryptography;
using KmsCluster.Authority.Storage;
using KmsCluster.Domain;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Authority.Activation;

/// <summary>
/// The authority's one decision, shared by the HTTP API and the offline `answer`: checks a host activation request
/// (<see cref="RequestCheck"/>), then applies the host activation ledger's rules (<see cref="HostKeyLedger.Decide(LedgerHost?, int, Guid, Guid, string, bool, int, DateTimeOffset)"/>)
/// to the key's record in the store, and certifies the host when the ledger lets it serve.
/// </summary>
public sealed class HostActivations(LicensingAuthority authority, IActivationStore store, TimeProvider clock)
{
    public TrustedAuthority Authority => authority.Public;

    /// <summary>Answers the request document <paramref name="json"/> (<paramref name="source"/> names it in messages).</summary>
    /// <exception cref="StoreUnavailableException">the store failed; nothing was answered.</exception>
    public async Task<ActivationAnswer> AnswerAsync(string json, string source, CancellationToken cancellationToken)
    {
        HostActivationRequest request;
        try
        {
            request = HostActivationRequest.Parse(json, source);
        }
        catch (HostKeyFormatException e)
        {
            return ActivationRefused.Invalid(e.Message.ReplaceLineEndings(" "));
        }
        var now = clock.GetUtcNow();
        if (RequestCheck.Problem(request, authority.Public, now) is { } problem)
        {
            return ActivationRefused.Invalid(problem);
        }
        var requestId = RequestId(request);
        return await store.DecideAsync(request.Key.KeyId, request.HostId,
            view => Decide(view, request, requestId, now), cancellationToken);
    }

    /// <summary>A request's identity is its signature: a retry sends the same bytes and so the same id; ECDSA
    /// signatures are randomised, so a new request, even with the same fields, gets a new one.</summary>
    public static Guid RequestId(HostActivationRequest request) => new(SHA256.HashData(request.Signature).AsSpan(0, 16));

    private (ActivationAnswer Answer, StoredHost? Write) Decide(KeyView view, HostActivationRequest request, Guid requestId,
        DateTimeOffset now)
    {
        var key = request.Key;
        var known = view.Host;
        // A known host with another public key was reinstalled (a new data directory): that is a re-activation.
        var reinstalled = known is not null && !known.PublicKey.AsSpan().SequenceEqual(request.HostPublicKey);
        var (outcome, recorded) = HostKeyLedger.Decide(known?.Ledger, view.HostCount, requestId, request.HostId,
            request.HostName, request.Reactivation || reinstalled, key.HostLimit, now);
        switch (outcome)
        {
            case HostActivationOutcome.HostLimitReached:
                return (new ActivationRefused(409, outcome.Name(),
                    $"host key {key.KeyId} has activated {view.HostCount} of its {key.HostLimit} hosts; host {request.HostId:D} is not one of them"), null);
            case HostActivationOutcome.ReactivationLimitReached:
                return (new ActivationRefused(409, outcome.Name(),
                    $"host {request.HostId:D} was re-activated {HostKeyLedger.MaxReactivations} times with host key {key.KeyId} (the limit)"), null);
        }
        if (recorded is not null)
        {
            var certificate = authority.Certify(key, request.HostId, request.HostPublicKey, now);
            var host = new StoredHost(HostKeyLedger.Applied(known?.Ledger, recorded), request.HostPublicKey, certificate.ToJson());
            return (new ActivationGranted(outcome.Name(), certificate), host);
        }
        // Not counted: a host already active gets a fresh certificate; a retry of the last counted request gets the
        // answer it was given then.
        var answer = outcome == HostActivationOutcome.AlreadyActive || known is null
            ? authority.Certify(key, request.HostId, request.HostPublicKey, now)
            : HostCertificate.Parse(known.LastCertificate, "the stored certificate");
        return (new ActivationGranted(outcome.Name(), answer), null);
    }
}
