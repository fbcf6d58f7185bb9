using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.TestKit;
using KmsCluster.Actors.Entities;
using KmsCluster.Actors.Windows;
using KmsCluster.Domain;
using Microsoft.Extensions.Time.Testing;
using static KmsCluster.Actors.Windows.WindowProtocol;
using static KmsCluster.Domain.Tests.TestContacts;

namespace KmsCluster.Actors.Tests;

/// <summary>The window actor against Akka.Persistence.TestKit's journal, whose writes the tests hold back,
/// fail or reject.</summary>
public sealed class ActivationWindowActorTests : Akka.TestKit.Xunit2.TestKit
{
    internal static readonly Config TestJournalConfig = ConfigurationFactory.ParseString("""
        akka.persistence {
          journal {
            plugin = "akka.persistence.journal.test"
            test {
              class = "Akka.Persistence.TestKit.TestJournal, Akka.Persistence.TestKit"
              plugin-dispatcher = "akka.actor.default-dispatcher"
            }
          }
          snapshot-store {
            plugin = "akka.persistence.snapshot-store.test"
            test {
              class = "Akka.Persistence.TestKit.TestSnapshotStore, Akka.Persistence.TestKit"
              plugin-dispatcher = "akka.actor.default-dispatcher"
            }
          }
        }
        """);

    // Upper bound for waiting only; the replies normally come within milliseconds.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    // How long a held write must keep the reply back; no assertion is made about how long anything takes.
    private static readonly TimeSpan HeldFor = TimeSpan.FromMilliseconds(300);

    private readonly Guid _application = Guid.NewGuid();
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly ITestJournal _journal;

    public ActivationWindowActorTests() : base(TestJournalConfig.WithFallback(KmsSerialization.Config))
    {
        _journal = TestJournal.FromRef(Persistence.Instance.Apply(Sys).JournalFor(null));
    }

    private string EntityId => WindowMessageExtractor.EntityIdOf(_application);

    private IActorRef StartWindow() =>
        Sys.ActorOf(ActivationWindowActor.Props(EntityId, WindowSettings.Default, _clock));

    private RecordContacts Batch(long batchId, params ContactRequest[] contacts) => new(_application, batchId, contacts);

    private async Task<WindowView> ReadWindow(IActorRef window)
    {
        window.Tell(new GetWindow(_application), TestActor);
        return await ExpectMsgAsync<WindowView>(Patience);
    }

    [Fact]
    public async Task A_batch_is_answered_only_once_its_event_is_durable()
    {
        var journal = new HeldJournal();
        await _journal.OnWrite.SetInterceptorAsync(journal);
        var window = StartWindow();

        window.Tell(Batch(1, Server(1)), TestActor);
        // A read during the write waits for it too: only durable state is shown.
        window.Tell(new GetWindow(_application), TestActor);
        await ExpectNoMsgAsync(HeldFor);

        journal.Release();

        var accepted = await ExpectMsgAsync<ContactsAccepted>(Patience);
        Assert.Equal(1, accepted.BatchId);
        Assert.Equal([1], accepted.Counts);
        Assert.Equal(Start, accepted.RecordedAt);
        var view = await ExpectMsgAsync<WindowView>(Patience);
        Assert.Equal(1, view.Count);
        Assert.Equal([Machine(1)], view.Contacts.Select(c => c.ClientMachineId));
    }

    [Fact]
    public async Task Batches_arriving_during_a_write_are_answered_after_it_and_written_together_as_the_next_event()
    {
        var journal = new HeldJournal();
        await _journal.OnWrite.SetInterceptorAsync(journal);
        var window = StartWindow();

        window.Tell(Batch(1, Server(1), Server(2)), TestActor);
        window.Tell(Batch(2, Server(3)), TestActor);
        window.Tell(Batch(3, Server(4), Server(5)), TestActor);
        window.Tell(Batch(4, Server(3)), TestActor);
        await ExpectNoMsgAsync(HeldFor);
        // Batches 2 to 4 are decided when the first write completes, so they see this later time.
        var later = Start + TimeSpan.FromMinutes(5);
        _clock.SetUtcNow(later);

        journal.Release();

        var replies = new ContactsAccepted[4];
        for (var i = 0; i < replies.Length; i++) replies[i] = await ExpectMsgAsync<ContactsAccepted>(Patience);
        Assert.Equal([1L, 2L, 3L, 4L], replies.Select(r => r.BatchId));
        Assert.Equal([1, 2], replies[0].Counts);
        Assert.Equal([3], replies[1].Counts);
        Assert.Equal([4, 5], replies[2].Counts);
        // Machine 3 again: it counts once, and by now the window holds five machines.
        Assert.Equal([5], replies[3].Counts);
        Assert.Equal([Start, later, later, later], replies.Select(r => r.RecordedAt));

        // Two events: the first batch alone, then the three that waited as one.
        var written = journal.Written.ToArray();
        Assert.Equal([1L, 2L], written.Select(w => w.SequenceNr));
        var grouped = Assert.IsType<ContactsRecorded>(written[1].Payload);
        Assert.Equal(4, grouped.Requests);
        Assert.Equal([Machine(4), Machine(5), Machine(3)], grouped.Contacts.Select(c => c.ClientMachineId));

        var view = await ReadWindow(window);
        Assert.Equal(5, view.Count);
        Assert.Equal(6, view.Requests);
        Assert.Equal(2, view.Activated);
    }

    [Fact]
    public async Task A_failed_write_rejects_every_waiting_batch_and_a_recovered_window_does_not_contain_them()
    {
        var window = StartWindow();
        Watch(window);
        window.Tell(Batch(1, Server(1)), TestActor);
        await ExpectMsgAsync<ContactsAccepted>(Patience);

        var journal = new HeldJournal(fail: true);
        await _journal.OnWrite.SetInterceptorAsync(journal);
        window.Tell(Batch(2, Server(2)), TestActor);
        window.Tell(Batch(3, Server(3)), TestActor);
        window.Tell(new GetWindow(_application), TestActor);
        journal.Release();

        // Never ContactsAccepted: ExpectMsgAsync<ContactsRejected> fails on any other message.
        Assert.Equal(2, (await ExpectMsgAsync<ContactsRejected>(Patience)).BatchId);
        Assert.Equal(3, (await ExpectMsgAsync<ContactsRejected>(Patience)).BatchId);
        await ExpectMsgAsync<Status.Failure>(Patience);
        await ExpectTerminatedAsync(window, Patience);

        await _journal.OnWrite.Pass();
        var recovered = StartWindow();
        var view = await ReadWindow(recovered);
        Assert.Equal([Machine(1)], view.Contacts.Select(c => c.ClientMachineId));
        Assert.Equal(1, view.Requests);

        // The recovered window carries on from the durable state.
        recovered.Tell(Batch(4, Server(4)), TestActor);
        var accepted = await ExpectMsgAsync<ContactsAccepted>(Patience);
        Assert.Equal([2], accepted.Counts);
    }

    [Fact]
    public async Task A_rejected_write_rejects_the_batch_and_a_recovered_window_does_not_contain_it()
    {
        var window = StartWindow();
        Watch(window);
        window.Tell(Batch(1, Client(1)), TestActor);
        await ExpectMsgAsync<ContactsAccepted>(Patience);

        await _journal.OnWrite.Reject();
        window.Tell(Batch(2, Client(2), Client(3)), TestActor);

        var rejected = await ExpectMsgAsync<ContactsRejected>(Patience);
        Assert.Equal(2, rejected.BatchId);
        await ExpectTerminatedAsync(window, Patience);

        await _journal.OnWrite.Pass();
        var view = await ReadWindow(StartWindow());
        Assert.Equal([Machine(1)], view.Contacts.Select(c => c.ClientMachineId));
        Assert.Equal(1, view.Requests);
        Assert.Equal(50, view.Capacity);
    }

    [Fact]
    public async Task The_window_view_reports_the_durable_window()
    {
        var window = StartWindow();
        window.Tell(Batch(1, Server(1, "SRV-A"), Server(2), Server(1, "SRV-B")), TestActor);
        await ExpectMsgAsync<ContactsAccepted>(Patience);
        _clock.Advance(TimeSpan.FromDays(10));

        var view = await ReadWindow(window);

        Assert.Equal(_application, view.ApplicationId);
        Assert.Equal(_clock.GetUtcNow(), view.AsOf);
        Assert.Equal((2, 10, 5, 3L, 0L), (view.Count, view.Capacity, view.HighestThreshold, view.Requests, view.Activated));
        Assert.Equal(Start, view.LastRecordedAt);
        Assert.False(string.IsNullOrEmpty(view.Owner));
        // Newest first, and the machine seen under two names is flagged.
        Assert.Equal([Machine(1), Machine(2)], view.Contacts.Select(c => c.ClientMachineId));
        Assert.Equal("SRV-A", view.Contacts[0].OtherWorkstation);
    }

    /// <summary>Holds every write until released, then lets it through (or fails it) and records what was written.</summary>
    [Fact]
    public async Task A_hand_off_finishes_the_write_in_flight_rejects_what_waits_and_stops()
    {
        var journal = new HeldJournal();
        await _journal.OnWrite.SetInterceptorAsync(journal);
        var window = StartWindow();
        Watch(window);

        window.Tell(Batch(1, Server(1)), TestActor);
        window.Tell(Batch(2, Server(2)), TestActor);
        window.Tell(WindowProtocol.StopWindow.Instance, TestActor);
        await ExpectNoMsgAsync(HeldFor);
        journal.Release();

        // The batch being written is answered: it is durable. The one that waited is sent back to retry at
        // the window's new home, and the window stops without writing it.
        Assert.Equal(1, (await ExpectMsgAsync<ContactsAccepted>(Patience)).BatchId);
        var rejected = await ExpectMsgAsync<ContactsRejected>(Patience);
        Assert.Equal(2, rejected.BatchId);
        Assert.Contains("moving", rejected.Reason);
        await ExpectTerminatedAsync(window, Patience);
        Assert.Single(journal.Written);
    }

    [Fact]
    public async Task A_hand_off_of_an_idle_window_stops_it_at_once()
    {
        var window = StartWindow();
        Watch(window);
        window.Tell(Batch(1, Server(1)), TestActor);
        await ExpectMsgAsync<ContactsAccepted>(Patience);

        window.Tell(WindowProtocol.StopWindow.Instance, TestActor);

        await ExpectTerminatedAsync(window, Patience);
    }

    [Fact]
    public async Task A_closed_write_fence_rejects_the_batch_writes_nothing_and_stops_the_window()
    {
        var journal = new HeldJournal();
        journal.Release();
        await _journal.OnWrite.SetInterceptorAsync(journal);
        var fence = new SwitchableFence();
        var window = Sys.ActorOf(ActivationWindowActor.Props(EntityId, new WindowSettings(Fence: fence), _clock));
        Watch(window);
        window.Tell(Batch(1, Server(1)), TestActor);
        await ExpectMsgAsync<ContactsAccepted>(Patience);

        // The node woke from a freeze: from now on it writes nothing.
        fence.MayWrite = false;
        window.Tell(Batch(2, Server(2)), TestActor);

        Assert.Equal(2, (await ExpectMsgAsync<ContactsRejected>(Patience)).BatchId);
        await ExpectTerminatedAsync(window, Patience);
        Assert.Single(journal.Written);
    }

    private sealed class SwitchableFence : IWriteFence
    {
        public bool MayWrite { get; set; } = true;
    }

    private sealed class HeldJournal(bool fail = false) : IJournalInterceptor
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<IPersistentRepresentation> Written { get; } = new();

        public void Release() => _released.TrySetResult();

        public async Task InterceptAsync(IPersistentRepresentation message)
        {
            await _released.Task.ConfigureAwait(false);
            if (fail)
            {
                throw new TestJournalFailureException("the database went away");
            }
            Written.Enqueue(message);
        }
    }
}
