using KmsCluster.Domain;

namespace KmsCluster.Testing.Chaos;

/// <summary>
/// Reads a chaos run's evidence afterwards, Jepsen's way, and lists every broken promise with its evidence. Pure
/// code over the recorded requests, the journal's committed events and the per-node window reads, so fabricated
/// histories test it. The invariants, for each window (application):
/// <list type="bullet">
/// <item><b>supported-count</b>: an answer's count is at most the distinct machines of the window's events created
/// before the answer arrived, and at most the capacity (twice the highest threshold) those events set; no window
/// read holds a machine no client sent.</item>
/// <item><b>honest-activation</b>: an answer says activated exactly when its count reaches the request's threshold.</item>
/// <item><b>no-double-count</b>: no event lists a machine twice; no node shows a window with a machine twice or a
/// count other than its machines.</item>
/// <item><b>acknowledged-durable</b>: an answer whose count is below the capacity (so the window was not full and
/// no grant could answer it) arrived after an event holding its machine was committed.</item>
/// <item><b>acknowledged-kept</b>: the machine of such an answer is in the final window, unless the window is full
/// and its machine's last recorded contact is no newer than the window's oldest contact (pushed out by the cap).</item>
/// <item><b>nodes-agree</b>: every node shows the same window, the one replaying the journal's events gives (contacts
/// and their times, count, requests, activated).</item>
/// <item><b>single-owner</b>: per persistence id, sequence numbers run 1, 2, 3... without a gap or a repeat (one
/// history, never a fork), and at every change of writer the new writer's first event is stamped after the previous
/// writer's last one (it wrote only after it had recovered that event). The journal's writer_uuid is the node's
/// journal, not the window's incarnation (Akka.Persistence.Sql), so a window moving back to a node it left writes
/// with that node's earlier writer id again: a returning writer is no violation by itself.</item>
/// </list>
/// </summary>
public static class HistoryChecker
{
    private const int ExamplesShown = 5;

    public static IReadOnlyList<Violation> Check(ChaosEvidence evidence)
    {
        var violations = new List<Violation>();
        var byApplication = evidence.Journal.GroupBy(e => e.Application).ToDictionary(g => g.Key, g => g.ToList());
        var timelines = byApplication.ToDictionary(p => p.Key, p => new DurableTimeline(p.Value));
        var countChanging = CheckAnswers(evidence.Requests, timelines, violations);
        CheckEvents(evidence.Journal, violations);
        CheckOwners(evidence.Journal, violations);
        var sent = evidence.Requests.Select(r => r.Machine).ToHashSet();
        foreach (var reads in evidence.Reads.GroupBy(r => r.Application))
        {
            var replayed = Replay(byApplication.GetValueOrDefault(reads.Key) ?? []);
            CheckReads(reads.Key, reads.ToList(), replayed, sent, violations);
            var reference = reads.FirstOrDefault(r => r.Error is null);
            if (reference is not null && timelines.TryGetValue(reads.Key, out var timeline))
            {
                CheckKept(reference, countChanging.Where(r => r.Application == reads.Key), timeline, violations);
            }
        }
        return violations;
    }

    /// <summary>Checks every answer against the durable history; returns the answers given while the window was
    /// not full (count-changing contacts, journaled before their answer).</summary>
    private static List<RequestRecord> CheckAnswers(IReadOnlyList<RequestRecord> requests,
        Dictionary<string, DurableTimeline> timelines, List<Violation> violations)
    {
        var countChanging = new List<RequestRecord>();
        var empty = new DurableTimeline([]);
        foreach (var answer in requests.Where(r => r.Outcome == RequestOutcome.Answered))
        {
            var count = answer.Count ?? 0;
            var timeline = timelines.GetValueOrDefault(answer.Application) ?? empty;
            var (distinct, capacity, last) = timeline.At(answer.FinishedAt);
            if (count > Math.Min(distinct, capacity))
            {
                violations.Add(new Violation(Invariants.SupportedCount,
                    $"request {answer.Id} ({answer.Machine}, {answer.Product}) answered by {answer.HostName} at {answer.FinishedAt:O} " +
                    $"with count {count}; the journal's {answer.Application} events created until then held {distinct} machines, " +
                    $"capacity {capacity} (last: {Describe(last)})"));
            }
            if (answer.Activated != count >= answer.Threshold)
            {
                violations.Add(new Violation(Invariants.HonestActivation,
                    $"request {answer.Id} ({answer.Machine}) answered by {answer.HostName} at {answer.FinishedAt:O}: count {count}, " +
                    $"threshold {answer.Threshold}, activated {answer.Activated}"));
            }
            if (count < Math.Max(capacity, answer.Threshold * KmsModel.StoredContactsPerThreshold))
            {
                countChanging.Add(answer);
                if (timeline.FirstDurable(answer.Machine) is not { } durable || durable > answer.FinishedAt)
                {
                    violations.Add(new Violation(Invariants.AcknowledgedDurable,
                        $"request {answer.Id} ({answer.Machine}) answered by {answer.HostName} at {answer.FinishedAt:O} with count {count} " +
                        $"(window not full), but the first {answer.Application} event holding it was created " +
                        $"{(timeline.FirstDurable(answer.Machine) is { } at ? $"at {at:O}" : "never")}"));
                }
            }
        }
        return countChanging;
    }

    private static void CheckEvents(IReadOnlyList<JournalEvent> journal, List<Violation> violations)
    {
        foreach (var e in journal)
        {
            var twice = e.Recorded.Contacts.GroupBy(c => c.ClientMachineId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
            if (twice.Count > 0)
            {
                violations.Add(new Violation(Invariants.NoDoubleCount,
                    $"event {Describe(e)} lists {string.Join(", ", twice.Take(ExamplesShown))} more than once"));
            }
        }
    }

    private static void CheckOwners(IReadOnlyList<JournalEvent> journal, List<Violation> violations)
    {
        foreach (var window in journal.GroupBy(e => e.PersistenceId))
        {
            var expected = 1L;
            JournalEvent? previous = null;
            foreach (var e in window.OrderBy(e => e.SequenceNumber).ThenBy(e => e.Created))
            {
                if (e.SequenceNumber != expected)
                {
                    violations.Add(new Violation(Invariants.SingleOwner, e.SequenceNumber < expected
                        ? $"sequence number {e.SequenceNumber} written twice: {Describe(previous)} and {Describe(e)}"
                        : $"sequence numbers {expected}..{e.SequenceNumber - 1} missing before {Describe(e)}"));
                }
                // A new writer continues from what it recovered, so its first event is stamped after the last one of
                // the writer before it; one stamped earlier was written while the other still owned the window.
                if (previous is not null && previous.WriterUuid != e.WriterUuid && e.Created < previous.Created)
                {
                    violations.Add(new Violation(Invariants.SingleOwner,
                        $"writer {e.WriterUuid} took over with {Describe(e)}, stamped before the previous writer's last event {Describe(previous)}"));
                }
                expected = Math.Max(expected, e.SequenceNumber + 1);
                previous = e;
            }
        }
    }

    /// <summary>The window the journal's events make, applied in sequence order (a repeated number's first row).</summary>
    public static ContactWindow Replay(IEnumerable<JournalEvent> events)
    {
        var window = new ContactWindow();
        foreach (var e in events.GroupBy(e => e.SequenceNumber).OrderBy(g => g.Key).Select(g => g.OrderBy(e => e.Created).First()))
        {
            window.Apply(e.Recorded);
        }
        return window;
    }

    private static void CheckReads(string application, List<WindowRead> reads, ContactWindow replayed, HashSet<Guid> sent,
        List<Violation> violations)
    {
        var expected = replayed.StoredContacts.ToDictionary(c => c.ClientMachineId, c => c.LastContact.ToUnixTimeMilliseconds());
        foreach (var read in reads)
        {
            if (read.Error is not null)
            {
                violations.Add(new Violation(Invariants.NodesAgree, $"{application} could not be read through {read.Node}: {read.Error}"));
                continue;
            }
            var machines = read.Contacts.Select(c => c.Machine).ToList();
            if (machines.Distinct().Count() != machines.Count || read.Count != machines.Count)
            {
                violations.Add(new Violation(Invariants.NoDoubleCount,
                    $"{application} through {read.Node}: count {read.Count}, {machines.Count} contacts, {machines.Distinct().Count()} distinct machines"));
            }
            var phantoms = machines.Where(m => !sent.Contains(m)).ToList();
            if (phantoms.Count > 0)
            {
                violations.Add(new Violation(Invariants.SupportedCount,
                    $"{application} through {read.Node} holds machines no client sent: {string.Join(", ", phantoms.Take(ExamplesShown))}"));
            }
            var shown = read.Contacts.GroupBy(c => c.Machine).ToDictionary(g => g.Key, g => g.First().LastContact.ToUnixTimeMilliseconds());
            var missing = expected.Keys.Where(m => !shown.ContainsKey(m)).ToList();
            var extra = shown.Keys.Where(m => !expected.ContainsKey(m)).ToList();
            var moved = expected.Where(p => shown.TryGetValue(p.Key, out var at) && at != p.Value).Select(p => p.Key).ToList();
            if (missing.Count + extra.Count + moved.Count > 0 || read.Count != expected.Count || read.Requests != replayed.Requests || read.Activated != replayed.Activated
                || read.Capacity != replayed.Capacity)
            {
                violations.Add(new Violation(Invariants.NodesAgree,
                    $"{application} through {read.Node} differs from the journal's replay: count {read.Count} vs {expected.Count}, " +
                    $"capacity {read.Capacity} vs {replayed.Capacity}, requests {read.Requests} vs {replayed.Requests}, " +
                    $"activated {read.Activated} vs {replayed.Activated}; missing {string.Join(", ", missing.Take(ExamplesShown))}; " +
                    $"extra {string.Join(", ", extra.Take(ExamplesShown))}; other time {string.Join(", ", moved.Take(ExamplesShown))}"));
            }
        }
    }

    private static void CheckKept(WindowRead window, IEnumerable<RequestRecord> countChanging, DurableTimeline timeline,
        List<Violation> violations)
    {
        var stored = window.Contacts.Select(c => c.Machine).ToHashSet();
        var full = window.Count >= window.Capacity && window.Contacts.Count > 0;
        var oldest = full ? window.Contacts.Min(c => c.LastContact) : DateTimeOffset.MaxValue;
        foreach (var answer in countChanging.GroupBy(r => r.Machine).Select(g => g.MaxBy(r => r.FinishedAt)!))
        {
            if (stored.Contains(answer.Machine) || timeline.LastRecorded(answer.Machine) is not { } last)
            {
                continue; // In the window, or never durable (acknowledged-durable reports that).
            }
            if (!full || last > oldest)
            {
                violations.Add(new Violation(Invariants.AcknowledgedKept,
                    $"request {answer.Id} ({answer.Machine}) answered by {answer.HostName} at {answer.FinishedAt:O} with count {answer.Count} " +
                    $"is missing from {answer.Application} through {window.Node} (count {window.Count}/{window.Capacity}); its last recorded contact " +
                    $"{last:O} is newer than the oldest kept one {(full ? oldest.ToString("O") : "(window not full)")}"));
            }
        }
    }

    private static string Describe(JournalEvent? e) => e is null ? "none"
        : $"{e.PersistenceId}#{e.SequenceNumber} writer {e.WriterUuid} created {e.Created:O} recorded {e.Recorded.RecordedAt:O} " +
          $"({e.Recorded.Contacts.Count} contacts, {e.Recorded.Requests} requests)";
}
