using KmsCluster.Client.Authority;
using KmsCluster.Domain;
using KmsCluster.Node.Configuration;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Node.Licensing;

/// <summary>
/// With <c>--authority-url</c>: activates this host under each of its keys with the licensing authority service,
/// which counts the hosts of a key for every cluster that uses it, and keeps the certificate it answers with
/// (<see cref="HostCertificates"/>). The authority is the truth: the cluster's ledger is not asked. A certificate
/// in force keeps the key active while the authority is away; one close to its end is asked for again (the same
/// host and key pair: not a re-activation). A host whose key pair is new to the authority (a reinstalled data
/// directory) is re-activated by the authority's own rule. An unreachable authority is asked again, backing off.
/// </summary>
public sealed partial class AuthorityActivation(
    HostLicence licence,
    HostCertificates certificates,
    NodeOptions options,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<AuthorityActivation> log) : IHostedService, IDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan CheckEvery = TimeSpan.FromHours(1);

    private readonly AuthorityClient? _client = options.Licensing.AuthorityUrl is { } url ? new AuthorityClient(url) : null;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_client is null) return Task.CompletedTask;
        foreach (var key in licence.Keys.Where(k => k.Problem == HostKeyProblem.Pending))
        {
            _ = Task.Run(() => KeepCertifiedAsync(_client, key.Key, lifetime.ApplicationStopping), CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task KeepCertifiedAsync(AuthorityClient client, HostKey key, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            if (certificates.For(key.KeyId) is { } held)
            {
                licence.Certified(key.KeyId, held);
            }
            var wait = certificates.NeedsCertificate(key.KeyId) ? await AskAsync(client, key, stopping) : CheckEvery;
            try
            {
                await Task.Delay(wait, time, stopping);
            }
            catch (TaskCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Asks until the authority answers (one signed request for every attempt: it counts it once);
    /// returns how long to wait before looking at the key again.</summary>
    private async Task<TimeSpan> AskAsync(AuthorityClient client, HostKey key, CancellationToken stopping)
    {
        var request = certificates.Request(key, reactivation: false);
        LogAsking(key.KeyId, client.BaseAddress.ToString());
        var retry = FirstRetry;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return Answered(key, await client.ActivateAsync(request, stopping));
            }
            catch (AuthorityUnreachableException e)
            {
                if (attempt % 10 == 0) LogUnreachable(key.KeyId, e.Message, certificates.For(key.KeyId) is not null);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return TimeSpan.Zero;
            }
            await Task.Delay(retry, time, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (stopping.IsCancellationRequested) return TimeSpan.Zero;
            retry = retry * 2 < LongestRetry ? retry * 2 : LongestRetry;
        }
    }

    private TimeSpan Answered(HostKey key, AuthorityAnswer answer)
    {
        switch (answer)
        {
            case AuthorityGranted granted when certificates.Install(granted.Certificate) is { } problem:
                LogUnusable(key.KeyId, problem);
                return CheckEvery;
            case AuthorityGranted granted:
                LogGranted(key.KeyId, granted.Outcome, HostKey.FormatTime(granted.Certificate.ExpiresAt));
                licence.Certified(key.KeyId, granted.Certificate);
                return TimeSpan.Zero;
            case AuthorityRefusal refusal:
                LogRefused(key.KeyId, refusal.Code, refusal.Message);
                // A certificate still in force is the authority's earlier answer: the key serves until it ends.
                if (certificates.For(key.KeyId) is null && Outcome(refusal.Code) is { } outcome)
                {
                    licence.AuthorityAnswered(key.KeyId, outcome);
                }
                return CheckEvery;
            default:
                return CheckEvery;
        }
    }

    private static HostActivationOutcome? Outcome(string code) => code switch
    {
        "host-limit-reached" => HostActivationOutcome.HostLimitReached,
        "reactivation-limit-reached" => HostActivationOutcome.ReactivationLimitReached,
        _ => null,
    };

    public void Dispose() => _client?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Host key {KeyId}: asking the licensing authority {Authority} to activate this host")]
    private partial void LogAsking(string keyId, string authority);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Host key {KeyId}: the licensing authority did not answer ({Reason}); asking again (a certificate in force: {Held})")]
    private partial void LogUnreachable(string keyId, string reason, bool held);

    [LoggerMessage(Level = LogLevel.Information, Message = "Host key {KeyId}: the licensing authority answered {Outcome}; certified until {ExpiresAt}")]
    private partial void LogGranted(string keyId, string outcome, string expiresAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Host key {KeyId}: the licensing authority refused ({Code}): {Reason}")]
    private partial void LogRefused(string keyId, string code, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Host key {KeyId}: the licensing authority's certificate cannot be used here: {Reason}")]
    private partial void LogUnusable(string keyId, string reason);
}
