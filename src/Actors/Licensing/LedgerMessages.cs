using KmsCluster.Actors.Serialization;
using KmsCluster.Domain;

namespace KmsCluster.Actors.Licensing;

/// <summary>A message for the ledger of one host key; the sharding extractor routes on it.</summary>
public interface IWithHostKeyId : IKmsMessage
{
    string KeyId { get; }
}

/// <summary>The messages of the host activation ledger.</summary>
public static class LedgerProtocol
{
    /// <summary>A node asks to record its activation under a key; answered with <see cref="HostActivationResult"/>
    /// once a counted activation is durable.</summary>
    /// <param name="Reactivate">The node holds no record of its activation (reinstalled) or the operator asked to
    /// re-activate; a host already in the ledger then counts a re-activation.</param>
    /// <param name="HostLimit">The key's host limit (6, or the authority's exception); the node read it from the
    /// signed key.</param>
    /// <param name="RequestId">Unique per request and kept across retries of it, so a retry is not counted twice.</param>
    public sealed record ActivateHost(string KeyId, Guid RequestId, Guid HostId, string HostName, bool Reactivate, int HostLimit)
        : IWithHostKeyId;

    /// <summary>The ledger's answer, with the ledger as it stands after it.</summary>
    public sealed record HostActivationResult(string KeyId, Guid HostId, HostActivationOutcome Outcome, HostKeyLedgerView Ledger) : IKmsMessage;

    /// <summary>Asks for a read-out of a key's ledger; answered with <see cref="HostKeyLedgerView"/>.</summary>
    public sealed record GetHostKeyLedger(string KeyId) : IWithHostKeyId;

    /// <summary>Sharding's hand-off and passivation stop message: it waits behind a write in flight (Persist holds
    /// commands back), so a counted activation is always answered before the entity stops. Local only.</summary>
    public sealed class StopLedger
    {
        public static readonly StopLedger Instance = new();

        private StopLedger()
        {
        }
    }

    /// <summary>The durable ledger of one key; <paramref name="Owner"/> is the node the entity runs on.</summary>
    public sealed record HostKeyLedgerView(string KeyId, LedgerHost[] Hosts, string Owner) : IKmsMessage;
}
