using Akka.Actor;
using KmsCluster.Domain;
using KmsCluster.Actors.Serialization;
using KmsCluster.Actors.Windows;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using static KmsCluster.Domain.Tests.TestContacts;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Tests;

/// <summary>The window actor on a real SQLite file through Akka.Persistence.Sql, configured like the node.</summary>
public sealed class ActivationWindowSqliteTests : Akka.TestKit.Xunit2.TestKit
{
    // Upper bound for waiting only: the first write also creates the tables.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly SqliteTestDatabase _database;
    private readonly Guid _application = Guid.NewGuid();
    private readonly FakeTimeProvider _clock = new(Start);

    public ActivationWindowSqliteTests() : this(new SqliteTestDatabase("kms-actors"))
    {
    }

    private ActivationWindowSqliteTests(SqliteTestDatabase database) : base(database.Config)
    {
        _database = database;
    }

    private string EntityId => WindowMessageExtractor.EntityIdOf(_application);

    private string PersistenceId => "activation-window-" + EntityId;

    private IActorRef StartWindow(WindowSettings settings) =>
        Sys.ActorOf(ActivationWindowActor.Props(EntityId, settings, _clock));

    private async Task Record(IActorRef window, long batchId, params ContactRequest[] contacts)
    {
        window.Tell(new RecordContacts(_application, batchId, contacts), TestActor);
        var accepted = await ExpectMsgAsync<ContactsAccepted>(Patience);
        Assert.Equal(batchId, accepted.BatchId);
    }

    private async Task<WindowView> ReadWindow(IActorRef window)
    {
        window.Tell(new GetWindow(_application), TestActor);
        return await ExpectMsgAsync<WindowView>(Patience);
    }

    private async Task Stop(IActorRef window)
    {
        Watch(window);
        window.Tell(PoisonPill.Instance);
        await ExpectTerminatedAsync(window, Patience);
    }

    [Fact]
    public async Task A_window_restarted_on_the_same_database_recovers_an_equal_window()
    {
        var settings = new WindowSettings(SnapshotEvery: 1000);
        var window = StartWindow(settings);
        await Record(window, 1, Server(1), Server(2), Server(3));
        _clock.Advance(TimeSpan.FromHours(2));
        await Record(window, 2, Client(4), Server(1, "SRV-1-CLONE"), Office(5));
        _clock.Advance(TimeSpan.FromDays(3));
        await Record(window, 3, Client(4), Client(6));
        var before = await ReadWindow(window);

        await Stop(window);
        var after = await ReadWindow(StartWindow(settings));

        AssertEqualViews(before, after);
        Assert.Equal(6, after.Count);
        Assert.Equal(8, after.Requests);
        Assert.Equal("SRV-1", after.Contacts.Single(c => c.ClientMachineId == Machine(1)).OtherWorkstation);

        // Every batch is one event, stored by the KMS serializer.
        var rows = await Query($"SELECT identifier, manifest FROM journal WHERE persistence_id = '{PersistenceId}'",
            r => (r.GetInt32(0), r.GetString(1)));
        Assert.Equal(3, rows.Count);
        Assert.All(rows, row => Assert.Equal((KmsSerializer.SerializerId, "contacts-recorded.v2"), row));
    }

    [Fact]
    public async Task With_frequent_snapshots_the_journal_is_trimmed_and_recovery_from_the_snapshot_is_equal()
    {
        var settings = new WindowSettings(SnapshotEvery: 5);
        var window = StartWindow(settings);
        for (var batch = 1; batch <= 52; batch++)
        {
            _clock.Advance(TimeSpan.FromMinutes(7));
            await Record(window, batch, Client(batch));
        }

        // Snapshot and trimming run after the replies: wait for them to settle.
        await AwaitAssertAsync(async () =>
        {
            var snapshots = await Query(
                $"SELECT sequence_number, serializer_id FROM snapshot WHERE persistence_id = '{PersistenceId}'",
                r => (r.GetInt64(0), r.GetInt32(1)));
            Assert.Equal([(50L, KmsSerializer.SerializerId)], snapshots);
            var journalRows = await Query($"SELECT sequence_number FROM journal WHERE persistence_id = '{PersistenceId}'",
                r => r.GetInt64(0));
            Assert.InRange(journalRows.Count, 1, settings.SnapshotEvery);
            Assert.DoesNotContain(journalRows, sequenceNr => sequenceNr < 50);
            Assert.Contains(52L, journalRows);
        }, Patience, TimeSpan.FromMilliseconds(100));
        var before = await ReadWindow(window);

        await Stop(window);
        var recovered = StartWindow(settings);
        var after = await ReadWindow(recovered);

        // Events 1 to 49 are gone: an equal window proves snapshot plus events 51 and 52 were used.
        AssertEqualViews(before, after);
        Assert.Equal(50, after.Count);
        Assert.DoesNotContain(after.Contacts, c => c.ClientMachineId == Machine(1) || c.ClientMachineId == Machine(2));
        Assert.Equal(52, after.Requests);

        // And the sequence carries on after the trimmed journal.
        await Record(recovered, 53, Client(53));
        var sequenceNumbers = await Query($"SELECT MAX(sequence_number) FROM journal WHERE persistence_id = '{PersistenceId}'",
            r => r.GetInt64(0));
        Assert.Equal([53L], sequenceNumbers);
    }

    private static void AssertEqualViews(WindowView expected, WindowView actual)
    {
        Assert.Equal(expected.Contacts, actual.Contacts);
        Assert.Equal(
            (expected.ApplicationId, expected.AsOf, expected.Count, expected.Capacity, expected.HighestThreshold,
                expected.Requests, expected.Activated, expected.LastRecordedAt),
            (actual.ApplicationId, actual.AsOf, actual.Count, actual.Capacity, actual.HighestThreshold,
                actual.Requests, actual.Activated, actual.LastRecordedAt));
    }

    private Task<List<T>> Query<T>(string sql, Func<SqliteDataReader, T> read) => _database.Query(sql, read);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _database.Dispose();
        }
    }
}
