using Akka.Actor;
using KmsCluster.Domain;
using KmsCluster.Actors.Licensing;
using KmsCluster.Actors.Serialization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using static KmsCluster.Actors.Licensing.LedgerProtocol;
using static KmsCluster.Domain.Tests.TestContacts;

namespace KmsCluster.Actors.Tests;

/// <summary>The ledger actor on a real SQLite journal, configured like the node: the limits, and the ledger after the
/// entity stops and starts again on the same file.</summary>
public sealed class HostKeyLedgerSqliteTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string KeyId = "k-ledger-test";

    private readonly SqliteTestDatabase _database;
    private readonly FakeTimeProvider _clock = new(Start);

    public HostKeyLedgerSqliteTests() : this(new SqliteTestDatabase("kms-ledger"))
    {
    }

    private HostKeyLedgerSqliteTests(SqliteTestDatabase database) : base(database.Config)
    {
        _database = database;
    }

    private static Guid Host(int number) => new(number, 0x484f, 0x5354, [8, 7, 6, 5, 4, 3, 2, 1]);

    private IActorRef StartLedger(LedgerSettings? settings = null) =>
        Sys.ActorOf(HostKeyLedgerActor.Props(KeyId, settings ?? LedgerSettings.Default, _clock));

    private async Task<HostActivationResult> Activate(IActorRef ledger, int host, bool reactivate = false, int limit = 6)
    {
        ledger.Tell(new ActivateHost(KeyId, Guid.NewGuid(), Host(host), $"kms-{host}", reactivate, limit), TestActor);
        var result = await ExpectMsgAsync<HostActivationResult>(Patience);
        Assert.Equal((KeyId, Host(host)), (result.KeyId, result.HostId));
        return result;
    }

    private async Task<HostKeyLedgerView> Read(IActorRef ledger)
    {
        ledger.Tell(new GetHostKeyLedger(KeyId), TestActor);
        return await ExpectMsgAsync<HostKeyLedgerView>(Patience);
    }

    /// <summary>Stops the entity the way sharding does on hand-off, and waits until it is gone.</summary>
    private async Task Stop(IActorRef ledger)
    {
        Watch(ledger);
        ledger.Tell(StopLedger.Instance);
        await ExpectTerminatedAsync(ledger, Patience);
    }

    [Fact]
    public async Task Six_hosts_then_refusal_and_nine_re_activations_then_refusal_survive_a_restart()
    {
        var ledger = StartLedger();
        for (var host = 1; host <= 6; host++)
        {
            Assert.Equal(HostActivationOutcome.Activated, (await Activate(ledger, host)).Outcome);
        }
        Assert.Equal(HostActivationOutcome.HostLimitReached, (await Activate(ledger, 7)).Outcome);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HostActivationOutcome.Reactivated, (await Activate(ledger, 3, reactivate: true)).Outcome);
        }
        var before = await Read(ledger);

        await Stop(ledger);
        ledger = StartLedger();

        var after = await Read(ledger);
        Assert.Equal(before.Hosts, after.Hosts);
        Assert.Equal(6, after.Hosts.Length);
        Assert.Equal(4, after.Hosts.Single(h => h.HostId == Host(3)).Reactivations);
        // The limits still hold after recovery.
        Assert.Equal(HostActivationOutcome.HostLimitReached, (await Activate(ledger, 8)).Outcome);
        Assert.Equal(HostActivationOutcome.AlreadyActive, (await Activate(ledger, 1)).Outcome);
        for (var i = 5; i <= 9; i++)
        {
            var result = await Activate(ledger, 3, reactivate: true);
            Assert.Equal(HostActivationOutcome.Reactivated, result.Outcome);
            Assert.Equal(i, result.Ledger.Hosts.Single(h => h.HostId == Host(3)).Reactivations);
        }
        Assert.Equal(HostActivationOutcome.ReactivationLimitReached, (await Activate(ledger, 3, reactivate: true)).Outcome);

        // Only counted activations are journaled: 6 hosts + 9 re-activations, each by the KMS serializer.
        var rows = await Query("SELECT identifier, manifest FROM journal WHERE persistence_id = 'host-key-ledger-" + KeyId + "'",
            r => (r.GetInt32(0), r.GetString(1)));
        Assert.Equal(15, rows.Count);
        Assert.All(rows, row => Assert.Equal((KmsSerializer.SerializerId, "host-activation-recorded.v2"), row));
    }

    [Fact]
    public async Task An_exception_in_the_key_is_honoured_and_recovery_from_a_snapshot_is_equal()
    {
        var ledger = StartLedger(new LedgerSettings(SnapshotEvery: 3));
        for (var host = 1; host <= 8; host++)
        {
            _clock.Advance(TimeSpan.FromMinutes(1));
            Assert.Equal(HostActivationOutcome.Activated, (await Activate(ledger, host, limit: 8)).Outcome);
        }
        Assert.Equal(HostActivationOutcome.HostLimitReached, (await Activate(ledger, 9, limit: 8)).Outcome);
        // Snapshots at 3 and 6; the journal is trimmed behind the newest.
        await AwaitAssertAsync(async () =>
        {
            var snapshots = await Query("SELECT sequence_number FROM snapshot WHERE persistence_id = 'host-key-ledger-" + KeyId + "'",
                r => r.GetInt64(0));
            Assert.Equal([6L], snapshots);
            var journal = await Query("SELECT sequence_number FROM journal WHERE persistence_id = 'host-key-ledger-" + KeyId + "'",
                r => r.GetInt64(0));
            Assert.DoesNotContain(journal, sequenceNr => sequenceNr < 6);
        }, Patience, TimeSpan.FromMilliseconds(100));
        var before = await Read(ledger);

        await Stop(ledger);
        var after = await Read(StartLedger(new LedgerSettings(SnapshotEvery: 3)));

        Assert.Equal(before.Hosts, after.Hosts);
        Assert.Equal(Start.AddMinutes(8), after.Hosts[^1].FirstActivatedAt);
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
