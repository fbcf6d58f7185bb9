using Akka.Actor;
using KmsCluster.Actors.Licensing;
using KmsCluster.Actors.Serialization;
using KmsCluster.Actors.Windows;
using KmsCluster.Domain;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using static KmsCluster.Actors.Licensing.LedgerProtocol;
using static KmsCluster.Actors.Windows.WindowProtocol;
using static KmsCluster.Domain.Tests.TestContacts;

namespace KmsCluster.Actors.Tests.Serialization;

/// <summary>
/// Existing data keeps working after an upgrade: a SQLite journal written by the build of an earlier format version
/// (journals/VERSION.db, frozen) is recovered by today's build, which then journals on in today's format and
/// recovers the mix. Three entities: a window from a snapshot plus events, a window from events only, a ledger
/// from a snapshot plus events. Expected states come from replaying the same script through the pure domain.
/// To keep today's version's journal in the repository: <c>KMS_WRITE_JOURNAL=1 dotnet test ... --filter FullyQualifiedName~JournalUpgradeTests</c>.
/// </summary>
public sealed class JournalUpgradeTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly Guid SnapshottedWindow = Guid.Parse("0a7b9a57-5a4f-4c1e-9d1f-6d0a5e1c2b01");
    private static readonly Guid EventsOnlyWindow = Guid.Parse("0a7b9a57-5a4f-4c1e-9d1f-6d0a5e1c2b02");
    private const string KeyId = "k-upgrade";
    private const int LegacySteps = 6;
    private const int AllSteps = 9;

    private static readonly WindowSettings SnapshotEvery4 = new(SnapshotEvery: 4);
    private static readonly WindowSettings NoSnapshots = new(SnapshotEvery: 1000);

    private readonly List<Akka.TestKit.Xunit2.TestKit> _systems = [];
    private SqliteTestDatabase? _database;

    public static TheoryData<string> Journals() =>
        new(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Serialization", "journals"), "*.db")
            .Select(file => Path.GetFileNameWithoutExtension(file)!).Order());

    [Theory]
    [MemberData(nameof(Journals))]
    public async Task A_journal_of_an_earlier_format_recovers_and_journals_on_in_todays_format(string version)
    {
        _database = new SqliteTestDatabase("kms-upgrade",
            Path.Combine(AppContext.BaseDirectory, "Serialization", "journals", version + ".db"));
        var clock = new FakeTimeProvider(TimeOf(LegacySteps));
        var node = StartNode(clock);

        await AssertRecovered(node, clock, LegacySteps);
        for (var step = LegacySteps + 1; step <= AllSteps; step++) await RunStep(node, clock, step);
        await StopAll(node);
        await AssertRecovered(StartNode(clock), clock, AllSteps);

        var manifests = await _database.Query("SELECT manifest FROM journal ORDER BY persistence_id, sequence_number",
            r => r.GetString(0));
        Assert.Contains($"contacts-recorded.{version}", manifests);
        Assert.Contains($"contacts-recorded.{GoldenFile.CurrentVersion}", manifests);
        Assert.Contains($"host-activation-recorded.{version}", manifests);
        Assert.Contains($"host-activation-recorded.{GoldenFile.CurrentVersion}", manifests);
    }

    /// <summary>Writes the script's journal with today's build, as the next format's upgrade test will find it
    /// (kept in the repository with KMS_WRITE_JOURNAL=1); every event and snapshot is in today's format.</summary>
    [Fact]
    public async Task Todays_build_writes_the_script_in_todays_format_only()
    {
        _database = new SqliteTestDatabase("kms-legacy");
        var clock = new FakeTimeProvider(Start);
        var node = StartNode(clock);
        for (var step = 1; step <= LegacySteps; step++) await RunStep(node, clock, step);
        await node.Kit.AwaitAssertAsync(async () =>
        {
            var snapshots = await _database.Query("SELECT persistence_id FROM snapshot", r => r.GetString(0));
            Assert.Equal(2, snapshots.Count); // the snapshotted window's and the ledger's
        }, Patience, TimeSpan.FromMilliseconds(100));
        await StopAll(node);
        SqliteConnection.ClearAllPools();
        await _database.Query("VACUUM", _ => 0);
        SqliteConnection.ClearAllPools(); // the last connection closed: the file holds everything

        var manifests = await _database.Query("SELECT manifest FROM journal UNION ALL SELECT manifest FROM snapshot",
            r => r.GetString(0));
        Assert.NotEmpty(manifests);
        Assert.All(manifests, manifest => Assert.EndsWith("." + GoldenFile.CurrentVersion, manifest));
        if (Environment.GetEnvironmentVariable("KMS_WRITE_JOURNAL") != "1") return;
        File.Copy(_database.Path, Path.Combine(GoldenFile.SourceDirectory(), "journals", GoldenFile.CurrentVersion + ".db"), true);
    }

    private static DateTimeOffset TimeOf(int step) => Start + TimeSpan.FromHours(7 * step);

    /// <summary>One step of the script: a batch for each window and an activation of one of three hosts.</summary>
    private static (ContactRequest[] Batch, ActivateHost Activation) Step(int step)
    {
        ContactRequest[] batch = [Client(step), Server(50 + step % 3, $"SRV-Ä-{step}"), Office(200 + step)];
        var host = new Guid(step % 3 + 1, 0x484f, 0x5354, [8, 7, 6, 5, 4, 3, 2, 1]);
        var request = new Guid(step, 0x5245, 0x5155, [1, 1, 2, 3, 5, 8, 13, 21]);
        return (batch, new ActivateHost(KeyId, request, host, $"kms-{step % 3 + 1}-ü", Reactivate: step > 3, HostLimit: 6));
    }

    /// <summary>One build's actor system on the journal, with the three entities.</summary>
    private sealed record Node(Akka.TestKit.Xunit2.TestKit Kit, IActorRef Snapshotted, IActorRef EventsOnly, IActorRef Ledger);

    private Node StartNode(FakeTimeProvider clock)
    {
        var kit = new Akka.TestKit.Xunit2.TestKit(_database!.Config);
        _systems.Add(kit);
        return new Node(kit,
            kit.Sys.ActorOf(ActivationWindowActor.Props(WindowMessageExtractor.EntityIdOf(SnapshottedWindow), SnapshotEvery4, clock)),
            kit.Sys.ActorOf(ActivationWindowActor.Props(WindowMessageExtractor.EntityIdOf(EventsOnlyWindow), NoSnapshots, clock)),
            kit.Sys.ActorOf(HostKeyLedgerActor.Props(KeyId, new LedgerSettings(SnapshotEvery: 5), clock)));
    }

    private static async Task RunStep(Node node, FakeTimeProvider clock, int step)
    {
        clock.SetUtcNow(TimeOf(step));
        var (batch, activation) = Step(step);
        foreach (var (window, application) in new[] { (node.Snapshotted, SnapshottedWindow), (node.EventsOnly, EventsOnlyWindow) })
        {
            var accepted = await window.Ask<ContactsAccepted>(new RecordContacts(application, step, batch), Patience);
            Assert.Equal(step, accepted.BatchId);
        }
        await node.Ledger.Ask<HostActivationResult>(activation, Patience);
    }

    private static async Task AssertRecovered(Node node, FakeTimeProvider clock, int steps)
    {
        var window = new ContactWindow();
        var ledger = new HostKeyLedger();
        for (var step = 1; step <= steps; step++)
        {
            var (batch, a) = Step(step);
            window.Record(TimeOf(step), batch);
            ledger.Apply(ledger.Decide(a.RequestId, a.HostId, a.HostName, a.Reactivate, a.HostLimit, TimeOf(step)).Event!);
        }
        var now = clock.GetUtcNow();
        var contacts = window.ContactsAt(now).ToArray();
        foreach (var (actor, application) in new[] { (node.Snapshotted, SnapshottedWindow), (node.EventsOnly, EventsOnlyWindow) })
        {
            var view = await actor.Ask<WindowView>(new GetWindow(application), Patience);
            MessageAssert.Same(new WindowView(application, now, contacts.Length, window.Capacity, window.HighestThreshold,
                window.Requests, window.Activated, window.LastRecordedAt, view.Owner, contacts), view);
        }
        var ledgerView = await node.Ledger.Ask<HostKeyLedgerView>(new GetHostKeyLedger(KeyId), Patience);
        MessageAssert.Same(new HostKeyLedgerView(KeyId, ledger.Hosts.ToArray(), ledgerView.Owner), ledgerView);
    }

    /// <summary>Stops the entities and their actor system, as a node shut down for the upgrade would.</summary>
    private async Task StopAll(Node node)
    {
        foreach (var actor in new[] { node.Snapshotted, node.EventsOnly, node.Ledger })
        {
            await actor.GracefulStop(Patience, actor.Equals(node.Ledger) ? StopLedger.Instance : PoisonPill.Instance);
        }
        _systems.Remove(node.Kit);
        node.Kit.Shutdown();
    }

    public void Dispose()
    {
        foreach (var kit in _systems) kit.Shutdown();
        _database?.Dispose();
    }
}
