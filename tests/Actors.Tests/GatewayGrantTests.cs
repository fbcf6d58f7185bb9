using Akka.Actor;
using Akka.TestKit;
using KmsCluster.Actors.Gateway;
using KmsCluster.Actors.Grants;
using KmsCluster.Domain;
using static KmsCluster.Domain.Tests.TestContacts;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Tests;

/// <summary>A node's gateways answering from their window's grant, with a probe standing in for the shard region
/// and a clock whose wall time can step apart from elapsed time.</summary>
public sealed class GatewayGrantTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private readonly Guid _application = Guid.NewGuid();
    private readonly TestProbe _region;
    private readonly SteppingClock _clock = new(Start);

    public GatewayGrantTests()
    {
        _region = CreateTestProbe();
    }

    private string SelfNode => ((ExtendedActorSystem)Sys).Provider.DefaultAddress.ToString();

    private ContactGateways StartGateways(TimeSpan? flushInterval = null, TimeSpan? replyTimeout = null) =>
        ContactGateways.Start(Sys, _region.Ref, [_application],
            new GatewaySettings(ReplyTimeout: replyTimeout ?? TimeSpan.FromMinutes(10),
                Grants: new GrantSettings(FlushInterval: flushInterval ?? TimeSpan.FromMinutes(10))), _clock);

    private WindowGrant Grant(long epoch, int capacity = 10, DateTimeOffset? issuedAt = null, DateTimeOffset? fullUntil = null) =>
        new(_application, epoch, capacity, capacity / 2, issuedAt ?? _clock.GetUtcNow(),
            fullUntil ?? _clock.GetUtcNow() + TimeSpan.FromDays(10), Lease);

    /// <summary>Publishes until the gateway holds the grant (its subscription starts with the actor).</summary>
    private async Task Hand(ContactGateways gateways, WindowGrant grant)
    {
        await AwaitAssertAsync(() =>
        {
            Sys.EventStream.Publish(grant);
            Assert.Equal(grant, gateways.GrantOf(_application));
        }, Patience, TimeSpan.FromMilliseconds(20));
    }

    private Submission Submit(ContactGateways gateways, ContactRequest contact)
    {
        var submission = new Submission(_application, contact);
        gateways.Submit(submission);
        return submission;
    }

    private static void AnsweredAtOnce(Submission submission, int count, DateTimeOffset at)
    {
        Assert.True(submission.Result.IsCompleted, "not answered on the caller's thread");
        Assert.Equal(new Outcome.Recorded(at, count), submission.Result.Result);
    }

    [Fact]
    public async Task Covered_requests_are_answered_at_once_and_their_contacts_follow_marked_as_answered()
    {
        var gateways = StartGateways(flushInterval: TimeSpan.FromMilliseconds(50));
        await Hand(gateways, Grant(epoch: 5));

        var answered = new[] { Submit(gateways, Server(1)), Submit(gateways, Office(2)), Submit(gateways, Server(1)) };
        var raising = Submit(gateways, Client(3));

        foreach (var submission in answered) AnsweredAtOnce(submission, 10, Start);
        // The Windows client edition is beyond the grant's thresholds: it goes to the window and waits.
        var durable = await _region.ExpectMsgAsync<RecordContacts>(Patience);
        Assert.False(durable.Answered);
        Assert.Equal([Client(3)], durable.Contacts);
        Assert.False(raising.Result.IsCompleted);
        var behind = await _region.ExpectMsgAsync<RecordContacts>(Patience);
        Assert.True(behind.Answered);
        Assert.Equal([Server(1), Office(2), Server(1)], behind.Contacts);
    }

    [Fact]
    public async Task A_revocation_sends_the_answered_contacts_before_its_confirmation_and_ends_the_answers()
    {
        var gateways = StartGateways();
        await Hand(gateways, Grant(epoch: 5));
        AnsweredAtOnce(Submit(gateways, Server(1)), 10, Start);
        AnsweredAtOnce(Submit(gateways, Server(2)), 10, Start);

        Sys.EventStream.Publish(new RevokeGrants(_application, 5));

        var behind = await _region.ExpectMsgAsync<RecordContacts>(Patience);
        Assert.True(behind.Answered);
        Assert.Equal([Server(1), Server(2)], behind.Contacts);
        Assert.Equal(new GrantsRevoked(_application, 5, SelfNode), await _region.ExpectMsgAsync<GrantsRevoked>(Patience));
        var after = Submit(gateways, Server(3));
        Assert.False((await _region.ExpectMsgAsync<RecordContacts>(Patience)).Answered);
        Assert.False(after.Result.IsCompleted);
    }

    [Fact]
    public async Task Grants_of_a_revoked_epoch_or_older_than_the_one_held_are_refused()
    {
        var gateways = StartGateways();
        await Hand(gateways, Grant(epoch: 5));
        Sys.EventStream.Publish(new RevokeGrants(_application, 5));
        await _region.ExpectMsgAsync<GrantsRevoked>(Patience);

        // A grant of the revoked epoch that was still on its way (or a previous owner's) arrives late.
        Sys.EventStream.Publish(Grant(epoch: 5));
        Sys.EventStream.Publish(Grant(epoch: 3));
        await _region.ExpectNoMsgAsync(Quiet);
        Assert.Null(gateways.GrantOf(_application));
        Assert.False(Submit(gateways, Server(1)).Result.IsCompleted);

        await Hand(gateways, Grant(epoch: 7));
        Sys.EventStream.Publish(Grant(epoch: 6, capacity: 50));
        await Task.Delay(Quiet);
        Assert.Equal(7, gateways.GrantOf(_application)!.Epoch);
    }

    [Fact]
    public async Task A_grant_arriving_after_its_full_until_or_its_lease_is_refused()
    {
        var gateways = StartGateways();
        var now = _clock.GetUtcNow();
        await Hand(gateways, Grant(epoch: 1)); // the subscription is in place

        Sys.EventStream.Publish(Grant(epoch: 2, issuedAt: now - TimeSpan.FromDays(30), fullUntil: now));
        Sys.EventStream.Publish(Grant(epoch: 3, issuedAt: now - Lease - TimeSpan.FromSeconds(1)));
        await Task.Delay(Quiet);

        Assert.Equal(1, gateways.GrantOf(_application)!.Epoch);
    }

    [Fact]
    public async Task A_wall_clock_step_back_cannot_lengthen_a_grant()
    {
        var gateways = StartGateways();
        await Hand(gateways, Grant(epoch: 1));

        _clock.StepWall(TimeSpan.FromDays(-1));
        _clock.Advance(Lease - TimeSpan.FromSeconds(1));
        AnsweredAtOnce(Submit(gateways, Server(1)), 10, Start - TimeSpan.FromDays(1) + Lease - TimeSpan.FromSeconds(1));

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(gateways.GrantOf(_application));
        var late = Submit(gateways, Server(2));
        Assert.False(late.Result.IsCompleted);
        Assert.Equal([Server(2)], (await _region.FishForMessageAsync<RecordContacts>(m => !m.Answered, Patience)).Contacts);
    }

    [Fact]
    public async Task A_wall_clock_step_past_the_windows_full_until_ends_the_answers_at_once()
    {
        var gateways = StartGateways();
        var fullUntil = _clock.GetUtcNow() + TimeSpan.FromDays(2);
        await Hand(gateways, Grant(epoch: 1, fullUntil: fullUntil));

        _clock.StepWall(TimeSpan.FromDays(2));

        Assert.False(Submit(gateways, Server(1)).Result.IsCompleted);
        Assert.False((await _region.ExpectMsgAsync<RecordContacts>(Patience)).Answered);
    }

    [Fact]
    public async Task While_the_window_does_not_answer_the_answered_contacts_are_kept_and_sent_again()
    {
        var gateways = StartGateways(flushInterval: TimeSpan.FromMilliseconds(50), replyTimeout: TimeSpan.FromMilliseconds(300));
        await Hand(gateways, Grant(epoch: 1));
        AnsweredAtOnce(Submit(gateways, Server(1)), 10, Start);

        var first = await _region.ExpectMsgAsync<RecordContacts>(Patience);
        // No answer: the window is moving. After the reply timeout the same contacts go out again.
        var again = await _region.ExpectMsgAsync<RecordContacts>(Patience);
        Assert.True(again.Answered);
        Assert.Equal(first.Contacts, again.Contacts);
        Assert.NotEqual(first.BatchId, again.BatchId);

        _region.Reply(new ContactsAccepted(again.BatchId, Start, [10]));
        await _region.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(600));
    }

    [Fact]
    public async Task However_many_answered_contacts_wait_every_message_to_the_window_fits_a_remoting_frame()
    {
        var gateways = StartGateways(flushInterval: TimeSpan.FromMilliseconds(50));
        await Hand(gateways, Grant(epoch: 1));

        // The flushes, two messages out at a time, the next ones once the window accepts.
        var flushed = RemotingFrame.Longest(1, 2000, Server);
        foreach (var contact in flushed) AnsweredAtOnce(Submit(gateways, contact), 10, Start);
        Assert.Equal(flushed, await RemotingFrame.ReceiveAsync(_region, Sys, flushed.Length,
            batch => _region.Reply(new ContactsAccepted(batch.BatchId, Start, []))));

        // A revocation hands over the whole buffer at once, then confirms.
        var revoked = RemotingFrame.Longest(2001, 2000, Server);
        foreach (var contact in revoked) AnsweredAtOnce(Submit(gateways, contact), 10, Start);
        Sys.EventStream.Publish(new RevokeGrants(_application, 1));
        Assert.Equal(revoked, await RemotingFrame.ReceiveAsync(_region, Sys, revoked.Length));
        await _region.ExpectMsgAsync<GrantsRevoked>(Patience);
    }

    [Fact]
    public void The_buffer_of_answered_contacts_is_bounded_and_keeps_the_newest()
    {
        var answers = new GrantedAnswers(_clock, maxBuffered: 3);
        Assert.True(answers.Accept(Grant(epoch: 1)));
        for (var machine = 1; machine <= 5; machine++)
        {
            Assert.True(answers.TryAnswer(Server(machine), out var count, out _, out var buffered));
            Assert.Equal(10, count);
            Assert.Equal(Math.Min(machine, 3), buffered);
        }
        var sent = answers.Drain(2);
        answers.Return(sent);
        Assert.True(answers.TryAnswer(Server(6), out _, out _, out _));

        Assert.Equal([Server(4), Server(5), Server(6)], answers.Drain(10));
    }
}
