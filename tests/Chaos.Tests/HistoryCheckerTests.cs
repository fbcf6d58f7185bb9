using KmsCluster.Testing.Chaos;
using static KmsCluster.Chaos.Tests.FabricatedHistory;

namespace KmsCluster.Chaos.Tests;

/// <summary>The checker on fabricated histories: a sound one passes, and each kind of broken promise is caught with
/// its evidence. (A checker that never complains would pass every chaos run.)</summary>
public sealed class HistoryCheckerTests
{
    /// <summary>Four Windows machines, each journaled (writer a, then b after a failover) before its answer, and
    /// Office's window: the sound history the tests below break one way each.</summary>
    private static FabricatedHistory Sound() => new FabricatedHistory()
        .Event(1.0, "a", [1]).Answer(1.1, 1, 1)
        .Event(2.0, "a", [2]).Answer(2.1, 2, 2)
        .Answer(2.2, 1, 2)
        .Event(3.0, "a", [3, 1]).Answer(3.1, 3, 3)
        .Unanswered(3.5, 9)
        .Event(4.0, "b", [4]).Answer(4.1, 4, 4)
        .Event(1.5, "x", [7], application: "office", threshold: 5).Answer(1.6, 7, 1, application: "office", threshold: 5);

    [Fact]
    public void A_sound_history_passes()
    {
        Assert.Empty(Sound().Check());
    }

    [Fact]
    public void A_full_windows_grant_answers_and_evictions_pass()
    {
        // Office keeps 10 (threshold 5): twelve machines, the first two pushed out; once full, answers come from the
        // grant before their contacts are journaled (machine 12 answered at 12.5, journaled at 13).
        var history = new FabricatedHistory();
        for (var m = 1; m <= 11; m++)
        {
            history.Event(m, "a", [m], application: "office", threshold: 5).Answer(m + 0.1, m, Math.Min(m, 10), application: "office", threshold: 5);
        }
        history.Answer(12.5, 12, 10, application: "office", threshold: 5).Event(13, "a", [12], application: "office", threshold: 5);
        Assert.Empty(history.Check());
        Assert.Equal(10, history.ReplayedReads()[0].Count);
        Assert.DoesNotContain(history.ReplayedReads()[0].Contacts, c => c.Machine == Machine(1) || c.Machine == Machine(2));
    }

    [Fact]
    public void A_count_above_the_machines_journaled_before_the_answer_is_caught()
    {
        // Count 3 at 2.5 s: the third machine's event is created at 3.0 s.
        var violation = Assert.Single(Sound().Answer(2.5, 2, 3).Check());
        Assert.Equal(Invariants.SupportedCount, violation.Invariant);
        Assert.Contains("request 8", violation.Evidence);
        Assert.Contains("held 2 machines", violation.Evidence);
    }

    [Fact]
    public void A_count_above_the_capacity_is_caught()
    {
        // Office keeps 10 contacts: an answer of 11 is more than the window may ever count.
        var history = new FabricatedHistory();
        for (var m = 1; m <= 11; m++) history.Event(m, "a", [m], application: "office", threshold: 5);
        for (var m = 1; m <= 10; m++) history.Answer(m + 0.1, m, m, application: "office", threshold: 5);
        history.Answer(11.1, 11, 11, application: "office", threshold: 5);
        var violation = Assert.Single(history.Check());
        Assert.Equal(Invariants.SupportedCount, violation.Invariant);
        Assert.Contains("capacity 10", violation.Evidence);
    }

    [Fact]
    public void An_activation_the_count_does_not_reach_is_caught()
    {
        var violation = Assert.Single(Sound().Answer(4.2, 4, 4, activated: true).Check());
        Assert.Equal(Invariants.HonestActivation, violation.Invariant);
        Assert.Contains("count 4, threshold 25, activated True", violation.Evidence);
    }

    [Fact]
    public void An_event_counting_a_machine_twice_is_caught()
    {
        var history = Sound().Event(5.0, "b", [2, 2]);
        Assert.Equal([Invariants.NoDoubleCount], history.Check().Select(v => v.Invariant));
    }

    [Fact]
    public void A_node_showing_a_machine_twice_is_caught()
    {
        var history = Sound();
        var reads = history.ReplayedReads();
        var windows = reads.First(r => r.Application == "windows" && r.Node == "node1");
        reads[reads.IndexOf(windows)] = windows with { Count = 5, Contacts = [.. windows.Contacts, windows.Contacts[0]] };
        history.Reads = reads;
        var violations = history.Check();
        Assert.Contains(violations, v => v.Invariant == Invariants.NoDoubleCount && v.Evidence.Contains("node1") && v.Evidence.Contains("4 distinct"));
        // It also differs from the journal's replay: the other check that sees it.
        Assert.All(violations, v => Assert.Contains(v.Invariant, new[] { Invariants.NoDoubleCount, Invariants.NodesAgree }));
    }

    [Fact]
    public void An_answer_before_its_contact_was_journaled_in_a_filling_window_is_caught()
    {
        // Machine 5 answered with count 4 at 4.5 s; its event is created at 5.0 s, and the window was not full.
        var violation = Assert.Single(Sound().Answer(4.5, 5, 4).Event(5.0, "b", [5]).Check());
        Assert.Equal(Invariants.AcknowledgedDurable, violation.Invariant);
        Assert.Contains(Machine(5).ToString(), violation.Evidence);
    }

    [Fact]
    public void An_answered_contact_never_journaled_is_caught()
    {
        var violation = Assert.Single(Sound().Answer(4.5, 6, 4).Check());
        Assert.Equal(Invariants.AcknowledgedDurable, violation.Invariant);
        Assert.Contains("created never", violation.Evidence);
    }

    [Fact]
    public void An_acknowledged_contact_missing_from_the_final_window_is_caught()
    {
        var history = Sound();
        history.Reads = [.. history.ReplayedReads().Select(r => r.Application != "windows" ? r
            : r with { Count = 3, Contacts = [.. r.Contacts.Where(c => c.Machine != Machine(2))] })];
        var violations = history.Check();
        Assert.Contains(violations, v => v.Invariant == Invariants.AcknowledgedKept && v.Evidence.Contains(Machine(2).ToString()));
        // Every node lost it, so every node also differs from the journal.
        Assert.Equal(3, violations.Count(v => v.Invariant == Invariants.NodesAgree));
        Assert.Equal(4, violations.Count);
    }

    [Fact]
    public void A_node_that_disagrees_is_caught()
    {
        var history = Sound();
        var reads = history.ReplayedReads();
        var office = reads.First(r => r.Application == "office" && r.Node == "node2");
        reads[reads.IndexOf(office)] = office with { Requests = office.Requests + 1 };
        history.Reads = reads;
        var violation = Assert.Single(history.Check());
        Assert.Equal(Invariants.NodesAgree, violation.Invariant);
        Assert.Contains("office through node2", violation.Evidence);
    }

    [Fact]
    public void A_window_no_node_could_read_is_caught()
    {
        var history = Sound();
        var reads = history.ReplayedReads();
        reads[0] = reads[0] with { Error = "503 window-unavailable" };
        history.Reads = reads;
        Assert.Equal(Invariants.NodesAgree, Assert.Single(history.Check()).Invariant);
    }

    [Fact]
    public void A_window_moving_back_to_a_node_it_left_passes()
    {
        // writer_uuid is the node's journal: the window moved a -> b -> a, and a writes under its old id again.
        Assert.Empty(Sound().Event(5.0, "a", [1]).Check());
    }

    [Fact]
    public void A_writer_that_took_over_before_the_previous_one_stopped_writing_is_caught()
    {
        // Writer c's event 5 is stamped at 3.5 s, before writer b's event 4 at 4.0 s: both owned the window then.
        var violation = Assert.Single(Sound().Event(3.5, "c", [1]).Check());
        Assert.Equal(Invariants.SingleOwner, violation.Invariant);
        Assert.Contains("writer c took over", violation.Evidence);
    }

    [Fact]
    public void A_gap_in_the_sequence_numbers_is_caught()
    {
        var violation = Assert.Single(Sound().Event(5.0, "b", [1], sequence: 7).Check());
        Assert.Equal(Invariants.SingleOwner, violation.Invariant);
        Assert.Contains("5..6 missing", violation.Evidence);
    }

    [Fact]
    public void A_sequence_number_written_twice_is_caught()
    {
        var violation = Assert.Single(Sound().Event(5.0, "c", [1], sequence: 4).Check());
        Assert.Equal(Invariants.SingleOwner, violation.Invariant);
        Assert.Contains("written twice", violation.Evidence);
    }
}
