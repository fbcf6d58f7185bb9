using Akka.Actor;
using KmsCluster.Actors.Serialization;
using KmsCluster.Domain;
using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Testing.Chaos;

/// <summary>
/// The durable history of a cluster's windows. The nodes snapshot a window every 200 events and then delete the
/// journal up to the snapshot, so the journal alone forgets; an insert trigger copies every committed journal row
/// into <c>chaos_journal_history</c> (in the writing transaction: a rolled-back write leaves no copy), and this
/// reads the copies back and decodes them with the node's own serializer.
/// </summary>
public static class JournalHistory
{
    private const string Table = "chaos_journal_history";
    private const string WindowPrefix = "activation-window-";

    /// <summary>Starts copying: installed once the first node has created the journal, before any window writes
    /// (rows already there are copied too).</summary>
    public static Task InstallAsync(PostgresServer server, string database) => server.ExecuteAsync(database, $"""
        BEGIN;
        LOCK TABLE journal IN SHARE ROW EXCLUSIVE MODE;
        CREATE TABLE {Table} AS SELECT * FROM journal WITH NO DATA;
        INSERT INTO {Table} SELECT * FROM journal;
        CREATE FUNCTION chaos_copy_journal_row() RETURNS trigger LANGUAGE plpgsql AS
            'BEGIN INSERT INTO {Table} SELECT NEW.*; RETURN NEW; END';
        CREATE TRIGGER chaos_copy_journal_row AFTER INSERT ON journal FOR EACH ROW EXECUTE FUNCTION chaos_copy_journal_row();
        COMMIT;
        """);

    /// <summary>Writes the events one a line (persistence id, sequence number, writer, created, recorded, contacts,
    /// requests) to <paramref name="path"/>: the rows behind the checker's evidence.</summary>
    public static Task WriteAsync(IReadOnlyList<JournalEvent> events, string path) =>
        File.WriteAllLinesAsync(path, events.Select(e => string.Join('\t', e.PersistenceId, e.SequenceNumber, e.WriterUuid,
            e.Created.ToString("O"), e.Recorded.RecordedAt.ToString("O"), e.Recorded.Contacts.Count, e.Recorded.Requests)));

    /// <summary>Every window event copied so far, decoded, in commit order.</summary>
    public static async Task<IReadOnlyList<JournalEvent>> ReadAsync(PostgresServer server, string database)
    {
        var rows = await server.QueryAsync(database,
            $"SELECT persistence_id, sequence_number, writer_uuid, created, manifest, message FROM {Table} " +
            $"WHERE persistence_id LIKE '{WindowPrefix}%' ORDER BY ordering");
        using var system = ActorSystem.Create("chaos-journal-reader", "akka.loglevel = WARNING");
        var serializer = new KmsSerializer((ExtendedActorSystem)system);
        var events = new List<JournalEvent>(rows.Count);
        foreach (var row in rows)
        {
            var persistenceId = (string)row[0]!;
            var application = ProductCatalog.Default.TryGetApplication(Guid.ParseExact(persistenceId[WindowPrefix.Length..], "N"), out var known)
                ? known.Slug
                : persistenceId;
            var recorded = serializer.FromBinary((byte[])row[5]!, (string)row[4]!) as ContactsRecorded
                ?? throw new InvalidOperationException($"{persistenceId}#{row[1]}: not a window event ({row[4]})");
            events.Add(new JournalEvent(application, persistenceId, Convert.ToInt64(row[1]), Convert.ToString(row[2])!,
                new DateTimeOffset(Convert.ToInt64(row[3]), TimeSpan.Zero), recorded));
        }
        await system.Terminate();
        return events;
    }
}
