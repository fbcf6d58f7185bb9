using CsCheck;
using static KmsCluster.Domain.Tests.TestContacts;
using static KmsCluster.Domain.Tests.WindowGenerators;

namespace KmsCluster.Domain.Tests;

/// <summary>
/// The same request sequences through today's path (every contact decided by the window, one at a time) and
/// through a window that hands out grants (a gateway answers what its grant covers at once and sends the contacts
/// behind; everything else goes to the window, after the contacts answered before it). Every answer must be the
/// same. Contacts behind answers reach the window within the same instant here: the model's clock moves in
/// minutes and days, the gateways' batch interval is 50 ms.
/// </summary>
public sealed class FullWindowPropertyTests
{
    [Fact]
    public void An_answer_from_a_grant_is_the_answer_the_window_would_give_and_the_windows_end_the_same()
    {
        var gen = Gen.Select(GenStep.Array[1, 60], Gen.Bool.Array[120]);
        gen.Sample((steps, coins) =>
        {
            var reference = new ContactWindow();
            var granting = new ContactWindow();
            var gateway = new GatewayModel();
            var coin = 0;
            bool Toss() => coins[coin++ % coins.Length];
            var now = Start;
            foreach (var step in steps)
            {
                now += step.Advance;
                foreach (var contact in step.Batch)
                {
                    var expected = reference.Record(now, contact).Counts.Single();
                    int actual;
                    if (gateway.Grant is { } grant && grant.Covers(contact.Threshold, now))
                    {
                        actual = grant.Capacity;
                        gateway.Answered.Add(contact);
                        gateway.GrantAnswers++;
                    }
                    else
                    {
                        actual = gateway.SendToWindow(granting, now, contact).Counts[^1];
                        if (Toss()) gateway.Renew(granting, now);
                    }
                    Assert.Equal(expected, actual);
                }
                // The contacts behind the answers reach the window; now and then the window renews its grant.
                gateway.SendToWindow(granting, now);
                if (Toss()) gateway.Renew(granting, now);
            }

            Assert.Equal(reference.StoredContacts.Select(c => c with { OtherWorkstation = null }),
                granting.StoredContacts.Select(c => c with { OtherWorkstation = null }));
            Assert.Equal((reference.HighestThreshold, reference.Requests, reference.Activated, reference.LastRecordedAt),
                (granting.HighestThreshold, granting.Requests, granting.Activated, granting.LastRecordedAt));
        }, iter: 500);
    }

    [Fact]
    public void Grants_are_used_by_the_generated_histories()
    {
        // Guards the test above against generators that never fill a window.
        var answers = 0;
        GenStep.Array[40].Sample(steps =>
        {
            var window = new ContactWindow();
            var gateway = new GatewayModel();
            var now = Start;
            foreach (var step in steps)
            {
                now += step.Advance;
                foreach (var contact in step.Batch)
                {
                    if (gateway.Grant is { } grant && grant.Covers(contact.Threshold, now))
                    {
                        gateway.Answered.Add(contact);
                        answers++;
                    }
                    else
                    {
                        gateway.SendToWindow(window, now, contact);
                        gateway.Renew(window, now);
                    }
                }
                gateway.SendToWindow(window, now);
            }
        }, iter: 50, threads: 1);
        Assert.True(answers > 500, $"only {answers} answers from grants");
    }

    [Fact]
    public void A_higher_threshold_or_aged_contacts_break_the_promise_and_contacts_it_covers_keep_it()
    {
        var window = new ContactWindow();
        window.Record(Start, Enumerable.Range(0, 10).Select(i => Server(i)).ToArray());
        var full = window.FullAt(Start)!.Value;
        Assert.Equal(new FullWindow(10, ServerThreshold, Start + KmsModel.ContactLifetime), full);

        Assert.True(full.IsKeptBy(window.Decide([Server(50), Office(51), Server(3)], Start + TimeSpan.FromDays(29))));
        Assert.False(full.IsKeptBy(window.Decide([Client(50)], Start + TimeSpan.FromDays(1))));
        Assert.False(full.IsKeptBy(window.Decide([Server(3)], Start + TimeSpan.FromDays(30))));
        Assert.False(full.Covers(ClientThreshold, Start));
        Assert.False(full.Covers(ServerThreshold, Start + KmsModel.ContactLifetime));
        Assert.Null(window.FullAt(Start + KmsModel.ContactLifetime));
        Assert.Null(new ContactWindow().FullAt(Start));
    }

    [Fact]
    public void The_promise_covers_its_own_threshold_until_the_tick_before_it_ends_and_no_batch_keeps_it_without_a_contact()
    {
        var window = new ContactWindow();
        window.Record(Start, Enumerable.Range(0, 10).Select(i => Server(i)).ToArray());
        var full = window.FullAt(Start)!.Value;

        // Office and Server share the threshold the window was filled with: both are covered, to the last tick.
        Assert.True(full.Covers(ServerThreshold, Start));
        Assert.True(full.Covers(OfficeThreshold, full.FullUntil - TimeSpan.FromTicks(1)));
        Assert.True(full.Covers(1, Start));
        Assert.False(full.Covers(ServerThreshold + 1, Start));
        // Asked at a time before its last batch (a clock stepped back), the window makes the same promise.
        window.Record(Start + TimeSpan.FromDays(20), Server(3));
        Assert.Equal(full, window.FullAt(Start - TimeSpan.FromDays(5)));
        // A batch with no contact gives no count that shows the window still full: the promise waits.
        Assert.False(full.IsKeptBy(window.Decide([], Start + TimeSpan.FromDays(1))));
    }

    /// <summary>One gateway in front of the granting window: the grant it holds and the contacts it answered
    /// from it that have not reached the window yet.</summary>
    private sealed class GatewayModel
    {
        public FullWindow? Grant { get; private set; }

        public List<ContactRequest> Answered { get; } = [];

        public int GrantAnswers { get; set; }

        /// <summary>The contacts answered so far reach the window first, as their own batch (the window never
        /// merges them with a batch that raises the capacity: they were answered under the old one); then
        /// <paramref name="request"/>, if any. A batch that would break the grant's promise revokes it first (the
        /// window waits for the revocation, which brings the answered contacts along).</summary>
        public BatchDecision SendToWindow(ContactWindow window, DateTimeOffset now, ContactRequest? request = null)
        {
            if (Answered.Count > 0)
            {
                var behind = window.Decide(Answered.ToArray(), now);
                Assert.True(Grant is not { } held || held.IsKeptBy(behind), "contacts a grant answered broke it");
                window.Apply(behind.Event);
                Answered.Clear();
            }
            if (request is not { } contact) return new BatchDecision(new ContactsRecorded(now, 0, [], 0, 0), []);
            var decision = window.Decide([contact], now);
            if (Grant is { } grant && !grant.IsKeptBy(decision))
            {
                Grant = null;
            }
            window.Apply(decision.Event);
            return decision;
        }

        /// <summary>The window hands out a fresh grant when it is full; an older one stays valid until revoked.</summary>
        public void Renew(ContactWindow window, DateTimeOffset now) => Grant = window.FullAt(now) ?? Grant;
    }
}
