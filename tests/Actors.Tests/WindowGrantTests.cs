using Akka.Actor;
using Akka.TestKit;
using KmsCluster.Actors.Grants;
using KmsCluster.Actors.Windows;
using KmsCluster.Domain;
using static KmsCluster.Domain.Tests.TestContacts;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Tests;

/// <summary>A window handing out and revoking grants, against the test journal, with a clock whose wall time
/// can step apart from elapsed time. Without a cluster, grants travel on the event stream.</summary>
public sealed class WindowGrantTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(2);

    private readonly Guid _application = Guid.NewGuid();
    private readonly SteppingClock _clock = new(Start);
    private readonly TestProbe _grants;

    public WindowGrantTests() : base(ActivationWindowActorTests.TestJournalConfig.WithFallback(KmsSerialization.Config))
    {
        _grants = CreateTestProbe();
        Sys.EventStream.Subscribe(_grants, typeof(WindowGrant));
        Sys.EventStream.Subscribe(_grants, typeof(RevokeGrants));
    }

    private string SelfNode => ((ExtendedActorSystem)Sys).Provider.DefaultAddress.ToString();

    private IActorRef StartWindow(bool singleNode = false) =>
        Sys.ActorOf(ActivationWindowActor.Props(WindowMessageExtractor.EntityIdOf(_application),
            WindowSettings.Default with { Grants = new GrantSettings(Lease: Lease, Margin: Margin, SingleNode: singleNode) }, _clock));

    private RecordContacts Batch(long batchId, params ContactRequest[] contacts) => new(_application, batchId, contacts);

    private static ContactRequest[] Servers(int from, int count) => Enumerable.Range(from, count).Select(i => Server(i)).ToArray();

    private async Task<WindowGrant> FillWithTenServers(IActorRef window)
    {
        window.Tell(Batch(1, Servers(0, 9)), TestActor);
        await ExpectMsgAsync<ContactsAccepted>(Patience);
        await _grants.ExpectNoMsgAsync(Quiet); // nine of ten places: not full, no grant
        _clock.Advance(TimeSpan.FromMinutes(1));
        window.Tell(Batch(2, Server(9)), TestActor);
        await ExpectMsgAsync<ContactsAccepted>(Patience);
        return await _grants.ExpectMsgAsync<WindowGrant>(Patience);
    }

    [Fact]
    public async Task A_full_window_grants_its_promise_with_its_durable_sequence_number_as_epoch()
    {
        var grant = await FillWithTenServers(StartWindow());

        Assert.Equal(new WindowGrant(_application, 2, 10, ServerThreshold, Start + TimeSpan.FromMinutes(1),
            Start + KmsModel.ContactLifetime, Lease), grant);
    }

    [Fact]
    public async Task A_batch_that_raises_the_capacity_waits_for_the_revocation_and_the_answered_contacts_go_first()
    {
        var window = StartWindow();
        await FillWithTenServers(window);

        window.Tell(Batch(3, Client(50)), TestActor);
        Assert.Equal(new RevokeGrants(_application, 2), await _grants.ExpectMsgAsync<RevokeGrants>(Patience));
        await ExpectNoMsgAsync(Quiet);
        // What the gateway does on the revocation: the contacts it answered, then its confirmation.
        window.Tell(new RecordContacts(_application, 4, [Server(60)], Answered: true), TestActor);
        window.Tell(new GrantsRevoked(_application, 2, SelfNode), TestActor);

        var answered = await ExpectMsgAsync<ContactsAccepted>(Patience);
        Assert.Equal(4, answered.BatchId);
        Assert.Empty(answered.Counts);
        var raised = await ExpectMsgAsync<ContactsAccepted>(Patience);
        Assert.Equal(3, raised.BatchId);
        // Ten machines younger than 30 days (Server(60) replaced the oldest under the old capacity), then the client.
        Assert.Equal([11], raised.Counts);
    }

    [Fact]
    public async Task Without_a_confirmation_a_revocation_completes_once_the_last_lease_has_run_out()
    {
        // A node partitioned away holding a grant: its gateway never confirms, and may answer from the grant until
        // its lease ends; the window writes nothing that breaks the promise before then.
        var window = StartWindow();
        await FillWithTenServers(window);

        window.Tell(Batch(3, Client(50)), TestActor);
        await _grants.ExpectMsgAsync<RevokeGrants>(Patience);
        _clock.Advance(Lease + Margin - TimeSpan.FromSeconds(1));
        await ExpectNoMsgAsync(Quiet);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(3, (await ExpectMsgAsync<ContactsAccepted>(Patience)).BatchId);
    }

    [Fact]
    public async Task A_window_recovered_full_waits_out_a_previous_owners_grants_before_breaking_its_promise()
    {
        var window = StartWindow();
        await FillWithTenServers(window);
        await window.GracefulStop(Patience);

        var recovered = StartWindow();
        await _grants.ExpectMsgAsync<WindowGrant>(Patience);
        recovered.Tell(Batch(3, Client(50)), TestActor);
        await _grants.ExpectMsgAsync<RevokeGrants>(Patience);
        // Every gateway of today's members confirms, but grants of the previous owner may be held elsewhere.
        recovered.Tell(new GrantsRevoked(_application, 2, SelfNode), TestActor);
        await ExpectNoMsgAsync(Quiet);

        _clock.Advance(Lease + Margin);
        Assert.Equal(3, (await ExpectMsgAsync<ContactsAccepted>(Patience)).BatchId);
    }

    [Fact]
    public async Task On_a_single_node_host_the_confirmation_of_its_own_gateway_is_enough_after_a_restart()
    {
        var window = StartWindow(singleNode: true);
        await FillWithTenServers(window);
        await window.GracefulStop(Patience);

        var recovered = StartWindow(singleNode: true);
        await _grants.ExpectMsgAsync<WindowGrant>(Patience);
        recovered.Tell(Batch(3, Client(50)), TestActor);
        await _grants.ExpectMsgAsync<RevokeGrants>(Patience);
        recovered.Tell(new GrantsRevoked(_application, 2, SelfNode), TestActor);

        Assert.Equal(3, (await ExpectMsgAsync<ContactsAccepted>(Patience)).BatchId);
    }

    [Fact]
    public async Task A_wall_clock_step_that_ages_every_contact_out_waits_for_the_revocation_like_a_raise()
    {
        var window = StartWindow();
        await FillWithTenServers(window);

        _clock.StepWall(KmsModel.ContactLifetime + TimeSpan.FromDays(1));
        window.Tell(Batch(3, Server(70)), TestActor);
        await _grants.ExpectMsgAsync<RevokeGrants>(Patience);
        await ExpectNoMsgAsync(Quiet);
        window.Tell(new GrantsRevoked(_application, 2, SelfNode), TestActor);

        // By the stepped clock only the new machine counts: that is what the window answers, once no grant can
        // still claim ten.
        var accepted = await ExpectMsgAsync<ContactsAccepted>(Patience);
        Assert.Equal([1], accepted.Counts);
    }

    [Fact]
    public async Task Contacts_the_grant_covers_neither_wait_nor_revoke()
    {
        var window = StartWindow();
        await FillWithTenServers(window);
        // A renewal period passes (Lease / 3 by default), so the write itself grants again rather than the real-time
        // renewal timer, 10 s away: a revocation would come first and the grant not at all.
        _clock.Advance(Lease / 3);

        window.Tell(new RecordContacts(_application, 3, Servers(20, 5), Answered: true), TestActor);
        window.Tell(Batch(4, Office(30)), TestActor);

        var answered = await ExpectMsgAsync<ContactsAccepted>(Patience);
        var durable = await ExpectMsgAsync<ContactsAccepted>(Patience);
        Assert.Equal((3, 4), (answered.BatchId, durable.BatchId));
        Assert.Empty(answered.Counts);
        Assert.Equal([10], durable.Counts);
        await _grants.FishForMessageAsync<WindowGrant>(_ => true, Patience); // granted again after the write, never revoked
    }
}
