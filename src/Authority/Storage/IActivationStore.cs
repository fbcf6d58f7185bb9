using KmsCluster.Domain;

namespace KmsCluster.Authority.Storage;

/// <summary>A host as the authority's store keeps it: the ledger's record, the public key it was last certified
/// with, and the certificate of its last counted request (the answer a retry of that request gets again).</summary>
public sealed record StoredHost(LedgerHost Ledger, byte[] PublicKey, string LastCertificate);

/// <summary>What a decision sees of one key, inside the store's transaction: how many hosts it activated, and the
/// asking host's record (null when the key never activated it).</summary>
public sealed record KeyView(int HostCount, StoredHost? Host);

/// <summary>
/// The authority's durable record of every host activation, for every key. <see cref="DecideAsync{T}"/> runs a
/// decision while it holds the key exclusively (SQLite: BEGIN IMMEDIATE; PostgreSQL: the key's row locked) and
/// commits what it decided to write before it returns, so an answer is never given for a count that could
/// still be lost, and two requests for one key never decide on the same count.
/// </summary>
public interface IActivationStore : IAsyncDisposable
{
    /// <summary>sqlite or postgresql.</summary>
    string Kind { get; }

    /// <summary>The SQLite file, or host:port/database.</summary>
    string Location { get; }

    /// <summary>Creates the tables when they are missing; throws <see cref="Configuration.StartupException"/> when the store cannot be used.</summary>
    Task OpenAsync(CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="decide"/> on the key's count and the host's record; when it returns a host to
    /// write, stores it (a new host also counts towards the key) and commits, then returns the answer.</summary>
    Task<T> DecideAsync<T>(string keyId, Guid hostId, Func<KeyView, (T Answer, StoredHost? Write)> decide,
        CancellationToken cancellationToken);

    /// <summary>The hosts a key activated, in the order they first did.</summary>
    Task<IReadOnlyList<LedgerHost>> HostsAsync(string keyId, CancellationToken cancellationToken);

    /// <summary>Throws when the store does not answer (the health check).</summary>
    Task PingAsync(CancellationToken cancellationToken);
}

/// <summary>The store failed while the service ran (the database went away, the disk is full).</summary>
public sealed class StoreUnavailableException(string message, Exception inner) : Exception(message, inner);
