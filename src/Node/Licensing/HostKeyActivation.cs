using Akka.Actor;
using Akka.Hosting;
using KmsCluster.Domain;
using KmsCluster.Actors.Hosting;
using KmsCluster.Node.Activation;
using KmsCluster.Node.Persistence;
using KmsCluster.Protocol.Licensing;
using static KmsCluster.Actors.Licensing.LedgerProtocol;

namespace KmsCluster.Node.Licensing;

/// <summary>
/// Records this host's activation under each of its keys in the cluster's host activation ledger, once the node
/// serves. The data directory remembers which keys this host holds an activation for (file
/// <c>host-key-activations</c>): a plain restart asks the ledger without counting anything; a host whose data
/// directory has no record of a key (reinstalled, restored) re-activates, which counts against the key's 9
/// re-activations. The operator can also re-activate explicitly (<see cref="ReactivateAsync"/>, the admin API).
/// The ledger is asked until it answers: it may be moving between nodes or the journal may be down. A key for
/// which this host holds the licensing authority's certificate (<see cref="HostCertificates"/>) is active without
/// the ledger: the authority counts hosts for everyone who uses the key.
/// </summary>
public sealed partial class HostKeyActivation(
    HostLicence licence,
    HostCertificates certificates,
    ActorRegistry registry,
    HostIdentity host,
    DataDirectory data,
    IHostApplicationLifetime lifetime,
    ILogger<HostKeyActivation> log) : IHostedService
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    private readonly Lock _recordGate = new();
    private string RecordPath => data.HostKeyActivationsFile;

    /// <summary>Asks the ledger about every key that checked out, in the background (until the node stops).</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // With a licensing authority service, it activates this host (AuthorityActivation), not the ledger.
        if (licence.Settings.AuthorityUrl is not null) return Task.CompletedTask;
        foreach (var key in licence.Keys.Where(k => k.Problem == HostKeyProblem.Pending))
        {
            // The licensing authority's certificate is its answer, and the truth: the cluster's ledger is not asked.
            // A node that certifies itself (--authority-keys, evaluation) counts its hosts in the ledger all the same.
            if (licence.Settings.LocalAuthority is null && certificates.For(key.Key.KeyId) is { } certificate)
            {
                licence.Certified(key.Key.KeyId, certificate);
                continue;
            }
            var reactivate = !HoldsActivation(key.Key.KeyId);
            _ = Task.Run(() => ActivateAsync(key.Key, reactivate, lifetime.ApplicationStopping), CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>An explicit re-activation of this host under a key; counts against its 9 re-activations.</summary>
    /// <exception cref="InvalidOperationException">the ledger did not answer in time.</exception>
    public async Task<HostActivationResult> ReactivateAsync(HostKey key, CancellationToken cancellationToken)
    {
        var result = await AskAsync(new ActivateHost(key.KeyId, Guid.NewGuid(), host.Id, host.Name, Reactivate: true, key.HostLimit),
            cancellationToken);
        Answered(key, result);
        return result;
    }

    private async Task ActivateAsync(HostKey key, bool reactivate, CancellationToken stopping)
    {
        // One request id for every attempt: a retry after a lost answer is not counted twice.
        var request = new ActivateHost(key.KeyId, Guid.NewGuid(), host.Id, host.Name, reactivate, key.HostLimit);
        LogAsking(key.KeyId, reactivate
            ? "activation; this data directory holds no record of one, so it counts as a re-activation if the ledger already knows this host"
            : "activation, which this data directory records (a restart: nothing is counted)");
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                Answered(key, await AskAsync(request, stopping));
                return;
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException && !stopping.IsCancellationRequested)
            {
                if (failures++ % 10 == 0)
                {
                    LogNoAnswer(key.KeyId, e.Message);
                }
            }
            try
            {
                await Task.Delay(RetryAfter, stopping);
            }
            catch (TaskCanceledException)
            {
                return;
            }
        }
    }

    private async Task<HostActivationResult> AskAsync(ActivateHost request, CancellationToken cancellationToken) =>
        await registry.Get<HostKeyLedgerRegion>().Ask<HostActivationResult>(request, AskTimeout, cancellationToken);

    private void Answered(HostKey key, HostActivationResult result)
    {
        if (result.Outcome is HostActivationOutcome.Activated or HostActivationOutcome.AlreadyActive or HostActivationOutcome.Reactivated)
        {
            RememberActivation(key.KeyId);
            certificates.CertifyLocally(key);
        }
        var self = result.Ledger.Hosts.FirstOrDefault(h => h.HostId == host.Id);
        LogAnswer(key.KeyId, result.Outcome.ToString(), result.Ledger.Hosts.Length, key.HostLimit, self?.Reactivations ?? 0,
            HostKey.MaxReactivations);
        licence.LedgerAnswered(key.KeyId, result.Outcome);
    }

    private bool HoldsActivation(string keyId)
    {
        lock (_recordGate)
        {
            return File.Exists(RecordPath) && File.ReadAllLines(RecordPath).Contains(keyId);
        }
    }

    private void RememberActivation(string keyId)
    {
        lock (_recordGate)
        {
            var keys = File.Exists(RecordPath) ? File.ReadAllLines(RecordPath).Where(l => l.Length > 0).ToList() : [];
            if (keys.Contains(keyId)) return;
            keys.Add(keyId);
            DataDirectory.ReplaceAtomically(RecordPath, keys);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Host key {KeyId}: asking the host activation ledger for this host's {What}")]
    private partial void LogAsking(string keyId, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Host key {KeyId}: the host activation ledger did not answer ({Reason}); asking again")]
    private partial void LogNoAnswer(string keyId, string reason);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Host key {KeyId}: ledger answered {Outcome}: {Hosts} of {Limit} hosts, this host re-activated {Reactivations} of {MaxReactivations} times")]
    private partial void LogAnswer(string keyId, string outcome, int hosts, int limit, int reactivations, int maxReactivations);
}
