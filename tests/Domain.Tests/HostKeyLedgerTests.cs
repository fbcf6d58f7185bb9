using KmsCluster.Domain;
using static KmsCluster.Domain.Tests.TestContacts;

namespace KmsCluster.Domain.Tests;

/// <summary>The pure ledger of one host key: 6 hosts, then refusal unless the key says more; 9 re-activations per host.</summary>
public sealed class HostKeyLedgerTests
{
    private static Guid Host(int number) => new(number, 0x484f, 0x5354, [1, 2, 3, 4, 5, 6, 7, 8]);

    private static HostActivationOutcome Activate(HostKeyLedger ledger, int host, bool reactivate = false, int limit = 6,
        Guid? requestId = null)
    {
        var (outcome, recorded) = ledger.Decide(requestId ?? Guid.NewGuid(), Host(host), $"kms-{host}", reactivate, limit,
            Start.AddMinutes(host));
        if (recorded is not null) ledger.Apply(recorded);
        return outcome;
    }

    [Fact]
    public void Six_distinct_hosts_activate_and_the_seventh_is_refused()
    {
        var ledger = new HostKeyLedger();
        for (var host = 1; host <= 6; host++)
        {
            Assert.Equal(HostActivationOutcome.Activated, Activate(ledger, host));
        }

        Assert.Equal(HostActivationOutcome.HostLimitReached, Activate(ledger, 7));
        Assert.Equal(6, ledger.Hosts.Count);
        Assert.DoesNotContain(ledger.Hosts, h => h.HostId == Host(7));
        // The six still activate (a restart of each), and a refusal changed nothing.
        Assert.All(Enumerable.Range(1, 6), host => Assert.Equal(HostActivationOutcome.AlreadyActive, Activate(ledger, host)));
    }

    [Fact]
    public void A_key_with_an_exception_activates_as_many_hosts_as_it_says()
    {
        var ledger = new HostKeyLedger();
        for (var host = 1; host <= 10; host++)
        {
            Assert.Equal(HostActivationOutcome.Activated, Activate(ledger, host, limit: 10));
        }
        Assert.Equal(HostActivationOutcome.HostLimitReached, Activate(ledger, 11, limit: 10));
    }

    [Fact]
    public void A_host_re_activates_nine_times_and_the_tenth_re_activation_is_refused()
    {
        var ledger = new HostKeyLedger();
        Assert.Equal(HostActivationOutcome.Activated, Activate(ledger, 1));
        for (var i = 1; i <= 9; i++)
        {
            Assert.Equal(HostActivationOutcome.Reactivated, Activate(ledger, 1, reactivate: true));
            Assert.Equal(i, ledger.Hosts.Single().Reactivations);
        }

        Assert.Equal(HostActivationOutcome.ReactivationLimitReached, Activate(ledger, 1, reactivate: true));
        Assert.Equal(9, ledger.Hosts.Single().Reactivations);
        // The host still holds its activation; a plain restart is fine.
        Assert.Equal(HostActivationOutcome.AlreadyActive, Activate(ledger, 1));
    }

    [Fact]
    public void A_plain_restart_is_not_counted_but_re_activation_of_an_unknown_host_is_a_first_activation()
    {
        var ledger = new HostKeyLedger();
        Assert.Equal(HostActivationOutcome.Activated, Activate(ledger, 1, reactivate: true));
        Assert.Equal(HostActivationOutcome.AlreadyActive, Activate(ledger, 1));
        Assert.Equal(0, ledger.Hosts.Single().Reactivations);
    }

    [Fact]
    public void A_retried_request_is_answered_as_before_and_not_counted_twice()
    {
        var ledger = new HostKeyLedger();
        var first = Guid.NewGuid();
        Assert.Equal(HostActivationOutcome.Activated, Activate(ledger, 1, requestId: first));
        Assert.Equal(HostActivationOutcome.Activated, Activate(ledger, 1, reactivate: true, requestId: first));

        var again = Guid.NewGuid();
        Assert.Equal(HostActivationOutcome.Reactivated, Activate(ledger, 1, reactivate: true, requestId: again));
        Assert.Equal(HostActivationOutcome.Reactivated, Activate(ledger, 1, reactivate: true, requestId: again));
        Assert.Equal(1, ledger.Hosts.Single().Reactivations);
    }

    [Fact]
    public void A_ledger_from_its_snapshot_equals_the_original()
    {
        var ledger = new HostKeyLedger();
        Activate(ledger, 1);
        Activate(ledger, 2);
        Activate(ledger, 1, reactivate: true);

        var copy = HostKeyLedger.FromSnapshot(ledger.ToSnapshot());

        Assert.Equal(ledger.Hosts, copy.Hosts);
        Assert.Equal(["kms-1", "kms-2"], copy.Hosts.Select(h => h.HostName));
        Assert.Equal(Start.AddMinutes(1), copy.Hosts[0].FirstActivatedAt);
    }
    [Fact]
    public void A_first_activation_is_journaled_as_no_re_activation_and_only_a_re_activation_event_counts_one()
    {
        var ledger = new HostKeyLedger();
        var (_, first) = ledger.Decide(Guid.NewGuid(), Host(1), "kms-1", reactivate: false, hostLimit: 6, Start);
        Assert.False(first!.Reactivation);
        ledger.Apply(first);

        var (_, again) = ledger.Decide(Guid.NewGuid(), Host(1), "kms-1b", reactivate: true, hostLimit: 6, Start.AddDays(1));
        Assert.True(again!.Reactivation);

        // Applied counts a re-activation only for an event that says so: a first-activation event applied to a
        // host already known (a store that replays one) renames it and moves its time, but adds no re-activation.
        var known = ledger.Hosts.Single();
        var raced = HostKeyLedger.Applied(known, first with { RequestId = Guid.NewGuid(), HostName = "kms-1c", At = Start.AddHours(1) });
        Assert.Equal(0, raced.Reactivations);
        Assert.Equal("kms-1c", raced.HostName);
        Assert.Equal(Start, raced.FirstActivatedAt);
        Assert.Equal(Start.AddHours(1), raced.LastActivatedAt);
        Assert.Equal(1, HostKeyLedger.Applied(known, again).Reactivations);
    }

    [Theory]
    [InlineData(HostActivationOutcome.Activated, "activated")]
    [InlineData(HostActivationOutcome.AlreadyActive, "already-active")]
    [InlineData(HostActivationOutcome.Reactivated, "reactivated")]
    [InlineData(HostActivationOutcome.HostLimitReached, "host-limit-reached")]
    [InlineData(HostActivationOutcome.ReactivationLimitReached, "reactivation-limit-reached")]
    [InlineData((HostActivationOutcome)9, "9")]
    public void Each_outcome_has_its_stable_name(HostActivationOutcome outcome, string name) =>
        Assert.Equal(name, outcome.Name());
}
