using System.Data.Common;
using KmsCluster.Domain;

namespace KmsCluster.Authority.Storage;

/// <summary>
/// The two tables both stores use (docs/licensing.md, "The authority's store"): <c>host_keys</c>, one row per key
/// with its host count (and, in PostgreSQL, the row a request locks), and <c>host_activations</c>, one row per
/// (key, host). Times are Unix milliseconds; ids are lower-case GUID text.
/// </summary>
internal static class StoreSchema
{
    public const string HostColumns =
        "host_id, host_name, host_public_key, first_activated_at, last_activated_at, reactivations, last_request_id, last_certificate";

    public static StoredHost ReadHost(DbDataReader reader) => new(
        new LedgerHost(
            Guid.Parse(reader.GetString(0)),
            reader.GetString(1),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
            reader.GetInt32(5),
            Guid.Parse(reader.GetString(6))),
        (byte[])reader.GetValue(2),
        reader.GetString(7));

    public static LedgerHost ReadLedgerHost(DbDataReader reader) => ReadHost(reader).Ledger;

    /// <summary>Hands the host's columns to <paramref name="add"/> by column name (the parameter names of the SQL).</summary>
    public static void AddHostParameters(Action<string, object> add, string keyId, StoredHost host)
    {
        add("key_id", keyId);
        add("host_id", host.Ledger.HostId.ToString("D"));
        add("host_name", host.Ledger.HostName);
        add("host_public_key", host.PublicKey);
        add("first_activated_at", host.Ledger.FirstActivatedAt.ToUnixTimeMilliseconds());
        add("last_activated_at", host.Ledger.LastActivatedAt.ToUnixTimeMilliseconds());
        add("reactivations", host.Ledger.Reactivations);
        add("last_request_id", host.Ledger.LastRequestId.ToString("D"));
        add("last_certificate", host.LastCertificate);
    }
}
