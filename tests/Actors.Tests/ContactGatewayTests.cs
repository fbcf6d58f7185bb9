using Akka.Actor;
using Akka.TestKit;
using KmsCluster.Domain;
using KmsCluster.Actors.Gateway;
using KmsCluster.Actors.Grants;
using KmsCluster.Protocol.Wire;
using static KmsCluster.Domain.Tests.TestContacts;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Tests;

/// <summary>The gateway with a probe standing in for the window shard region.</summary>
public sealed class ContactGatewayTests : Akka.TestKit.Xunit2.TestKit
{
    // Upper bound for waiting only.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    // How long to watch for a message that must not come.
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);
    // Long enough never to fire unless a test wants it to.
    private static readonly TimeSpan NoTimeout = TimeSpan.FromMinutes(10);

    private static readonly DateTimeOffset RecordedAt = Start + TimeSpan.FromMinutes(1);

    private readonly Guid _application = Guid.NewGuid();
    private readonly TestProbe _region;

    public ContactGatewayTests()
    {
        _region = CreateTestProbe();
    }

    private IActorRef StartGateway(GatewaySettings settings) =>
        Sys.ActorOf(ContactGateway.Props(_application, _region.Ref, settings,
            new GrantedAnswers(TimeProvider.System, settings.EffectiveGrants.MaxBufferedContacts)));

    private Submission Submit(IActorRef gateway, int machine)
    {
        var submission = new Submission(_application, Client(machine));
        gateway.Tell(submission);
        return submission;
    }

    private async Task<RecordContacts> ExpectBatch(params Submission[] submissions)
    {
        var batch = await _region.ExpectMsgAsync<RecordContacts>(Patience);
        Assert.Equal(_application, batch.ApplicationId);
        Assert.Equal(submissions.Select(s => s.Contact), batch.Contacts);
        return batch;
    }

    [Fact]
    public async Task A_batch_carries_the_trace_contexts_of_its_traced_submissions_up_to_the_most_a_message_takes()
    {
        var gateway = StartGateway(new GatewaySettings(ReplyTimeout: NoTimeout));
        var untraced = Submit(gateway, 1);
        var first = await ExpectBatch(untraced);
        Assert.Empty(first.Traces);

        // While the first batch is out, the next ones gather: every other one traced, more than a message carries.
        var traces = Enumerable.Range(0, RecordContacts.MaxTraces + 5)
            .Select(i => new TraceContext($"00-{i + 1:x32}-{i + 1:x16}-01", i == 0 ? "vendor=1" : null)).ToArray();
        var gathered = new List<Submission>();
        for (var i = 0; i < traces.Length * 2; i++)
        {
            var submission = new Submission(_application, Client(100 + i)) { Trace = i % 2 == 0 ? traces[i / 2] : null };
            gateway.Tell(submission);
            gathered.Add(submission);
        }
        // One mailbox, filled in this order: every submission is queued before the first batch's answer arrives.
        _region.Send(gateway, new ContactsAccepted(first.BatchId, RecordedAt, [1]));

        var second = await ExpectBatch([.. gathered]);
        Assert.Equal(traces.Take(RecordContacts.MaxTraces), second.Traces);
    }

    [Fact]
    public async Task A_single_submission_is_sent_at_once_and_gets_its_count()
    {
        var gateway = StartGateway(new GatewaySettings(ReplyTimeout: NoTimeout));

        var submission = Submit(gateway, 1);
        var batch = await ExpectBatch(submission);
        _region.Send(gateway, new ContactsAccepted(batch.BatchId, RecordedAt, [1]));

        Assert.Equal(new Outcome.Recorded(RecordedAt, 1), await submission.Result.WaitAsync(Patience));
    }

    [Fact]
    public async Task An_answer_with_the_wrong_number_of_counts_fails_every_contact_instead_of_guessing()
    {
        var gateway = StartGateway(new GatewaySettings(ReplyTimeout: NoTimeout));

        var submission = Submit(gateway, 1);
        var batch = await ExpectBatch(submission);
        _region.Send(gateway, new ContactsAccepted(batch.BatchId, RecordedAt, [1, 2]));

        var outcome = Assert.IsType<Outcome.Failed>(await submission.Result.WaitAsync(Patience));
        Assert.Equal(ErrorCode.InternalError, outcome.Code);
    }

    [Fact]
    public async Task After_a_member_leaves_unanswered_batches_are_sent_again_ahead_of_the_queue_and_old_answers_are_ignored()
    {
        var gateway = StartGateway(new GatewaySettings(MaxBatchSize: 10, MaxBatchesInFlight: 1, ReplyTimeout: NoTimeout));
        var first = Submit(gateway, 1);
        var lost = await ExpectBatch(first);
        var waiting = Submit(gateway, 2);
        await _region.ExpectNoMsgAsync(Quiet);

        gateway.Tell(ContactGateway.ResendInFlight.Instance);

        // The lost batch's contact goes again, first, together with what waited behind it.
        var again = await ExpectBatch(first, waiting);
        Assert.NotEqual(lost.BatchId, again.BatchId);
        _region.Send(gateway, new ContactsAccepted(lost.BatchId, RecordedAt, [99]));
        _region.Send(gateway, new ContactsAccepted(again.BatchId, RecordedAt, [1, 2]));
        Assert.Equal(new Outcome.Recorded(RecordedAt, 1), await first.Result.WaitAsync(Patience));
        Assert.Equal(new Outcome.Recorded(RecordedAt, 2), await waiting.Result.WaitAsync(Patience));
    }

    [Fact]
    public async Task While_the_window_is_busy_submissions_gather_into_batches_of_at_most_the_maximum_size()
    {
        var gateway = StartGateway(new GatewaySettings(MaxBatchSize: 3, MaxBatchesInFlight: 2, ReplyTimeout: NoTimeout));

        var first = Submit(gateway, 1);
        var second = Submit(gateway, 2);
        var batch1 = await ExpectBatch(first);
        var batch2 = await ExpectBatch(second);
        var waiting = Enumerable.Range(3, 5).Select(machine => Submit(gateway, machine)).ToArray();
        await _region.ExpectNoMsgAsync(Quiet);

        // One answer frees one slot: the next three go together, the other two keep waiting.
        _region.Send(gateway, new ContactsAccepted(batch1.BatchId, RecordedAt, [7]));
        var batch3 = await ExpectBatch(waiting[..3]);
        await _region.ExpectNoMsgAsync(Quiet);

        _region.Send(gateway, new ContactsAccepted(batch2.BatchId, RecordedAt, [8]));
        var batch4 = await ExpectBatch(waiting[3..]);

        // Counts go back to the submissions in the order the batch carried them.
        _region.Send(gateway, new ContactsAccepted(batch4.BatchId, RecordedAt, [12, 11]));
        _region.Send(gateway, new ContactsAccepted(batch3.BatchId, RecordedAt, [10, 9, 10]));
        int[] expected = [7, 8, 10, 9, 10, 12, 11];
        Submission[] all = [first, second, .. waiting];
        for (var i = 0; i < all.Length; i++)
        {
            Assert.Equal(new Outcome.Recorded(RecordedAt, expected[i]), await all[i].Result.WaitAsync(Patience));
        }
        Assert.Equal(4, new[] { batch1, batch2, batch3, batch4 }.Select(b => b.BatchId).Distinct().Count());
    }

    [Fact]
    public async Task However_many_submissions_wait_every_batch_fits_a_remoting_frame()
    {
        var gateway = StartGateway(new GatewaySettings(ReplyTimeout: NoTimeout));
        var contacts = RemotingFrame.Longest(1, 2000, Client);
        foreach (var contact in contacts) gateway.Tell(new Submission(_application, contact));

        Assert.Equal(contacts, await RemotingFrame.ReceiveAsync(_region, Sys, contacts.Length,
            batch => _region.Reply(new ContactsAccepted(batch.BatchId, RecordedAt, batch.Contacts.Select(_ => 1).ToArray()))));
    }

    [Fact]
    public async Task A_rejected_batch_fails_its_submissions_as_window_unavailable_and_frees_the_slot()
    {
        var gateway = StartGateway(new GatewaySettings(MaxBatchesInFlight: 1, ReplyTimeout: NoTimeout));
        var first = Submit(gateway, 1);
        var second = Submit(gateway, 2);
        var batch = await ExpectBatch(first);
        await _region.ExpectNoMsgAsync(Quiet);

        _region.Send(gateway, new ContactsRejected(batch.BatchId, "journal down"));

        var outcome = Assert.IsType<Outcome.Failed>(await first.Result.WaitAsync(Patience));
        Assert.Equal(ErrorCode.WindowUnavailable, outcome.Code);
        Assert.Contains("journal down", outcome.Message);
        await ExpectBatch(second);
        Assert.False(second.Result.IsCompleted);
    }

    [Fact]
    public async Task An_unanswered_batch_times_out_as_window_unavailable_and_a_late_answer_is_ignored()
    {
        var gateway = StartGateway(new GatewaySettings(MaxBatchesInFlight: 1,
            ReplyTimeout: TimeSpan.FromMilliseconds(300)));
        var first = Submit(gateway, 1);
        var batch1 = await ExpectBatch(first);
        var second = Submit(gateway, 2);

        var outcome = Assert.IsType<Outcome.Failed>(await first.Result.WaitAsync(Patience));
        Assert.Equal(ErrorCode.WindowUnavailable, outcome.Code);
        // The slot is free again: the waiting submission goes out.
        var batch2 = await ExpectBatch(second);

        _region.Send(gateway, new ContactsAccepted(batch1.BatchId, RecordedAt, [1]));
        _region.Send(gateway, new ContactsAccepted(batch2.BatchId, RecordedAt, [2]));

        // Once the second answer is through, the late first one was handled before it.
        Assert.Equal(new Outcome.Recorded(RecordedAt, 2), await second.Result.WaitAsync(Patience));
        Assert.Equal(1, first.Calls);
        Assert.IsType<Outcome.Failed>(await first.Result);
    }

    [Fact]
    public async Task Beyond_the_queue_limit_submissions_are_refused_as_server_busy()
    {
        var gateway = StartGateway(new GatewaySettings(MaxBatchesInFlight: 1, MaxQueuedContacts: 2, ReplyTimeout: NoTimeout));
        var inFlight = Submit(gateway, 1);
        var batch = await ExpectBatch(inFlight);
        var queued = new[] { Submit(gateway, 2), Submit(gateway, 3) };

        var refused = Submit(gateway, 4);

        var outcome = Assert.IsType<Outcome.Failed>(await refused.Result.WaitAsync(Patience));
        Assert.Equal(ErrorCode.ServerBusy, outcome.Code);
        Assert.All(queued, s => Assert.False(s.Result.IsCompleted));

        // Answering drains the queue; the refused contact is not among the sent ones.
        _region.Send(gateway, new ContactsAccepted(batch.BatchId, RecordedAt, [1]));
        await ExpectBatch(queued);
    }

    [Fact]
    public async Task Stopping_the_gateway_fails_what_is_in_flight_and_what_waits()
    {
        var gateway = StartGateway(new GatewaySettings(MaxBatchesInFlight: 1, ReplyTimeout: NoTimeout));
        var inFlight = Submit(gateway, 1);
        await ExpectBatch(inFlight);
        var waiting = Submit(gateway, 2);

        await gateway.GracefulStop(Patience);

        foreach (var submission in new[] { inFlight, waiting })
        {
            var outcome = Assert.IsType<Outcome.Failed>(await submission.Result.WaitAsync(Patience));
            Assert.Equal(ErrorCode.WindowUnavailable, outcome.Code);
        }
    }
}
