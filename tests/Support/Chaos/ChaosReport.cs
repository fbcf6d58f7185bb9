using System.Text;

namespace KmsCluster.Testing.Chaos;

/// <summary>What a chaos run did and what the checker found: printed as a table, written as report.json.</summary>
public sealed record ChaosReport(
    int Seed,
    DateTimeOffset StartedAt,
    TimeSpan FaultTime,
    TimeSpan TotalTime,
    bool Partitions,
    IReadOnlyDictionary<string, int> FaultsInjected,
    long Requests,
    long Answered,
    long FirstSendsAnswered,
    IReadOnlyDictionary<string, long> Failed,
    IReadOnlyDictionary<string, long> AnsweredByHost,
    long JournalEvents,
    IReadOnlyDictionary<string, int> FinalCounts,
    IReadOnlyDictionary<string, int> ViolationsByInvariant,
    IReadOnlyList<Violation> Violations,
    IReadOnlyList<FaultRecord> Faults)
{
    public int ViolationCount => Violations.Count;

    public static ChaosReport Of(ChaosOptions options, DateTimeOffset startedAt, TimeSpan faultTime, bool partitions,
        IReadOnlyList<FaultRecord> faults, ChaosEvidence evidence, IReadOnlyList<Violation> violations)
    {
        var requests = evidence.Requests;
        var answered = requests.Where(r => r.Outcome == RequestOutcome.Answered).ToList();
        return new ChaosReport(options.Seed, startedAt, faultTime, DateTimeOffset.UtcNow - startedAt, partitions,
            Enum.GetValues<FaultKind>().ToDictionary(k => Name(k), k => faults.Count(f => f.Injected && f.Step.Kind == k)),
            requests.Count, answered.Count, answered.Count(r => r.FirstSend),
            requests.Where(r => r.Outcome != RequestOutcome.Answered)
                .GroupBy(r => r.Outcome switch
                {
                    RequestOutcome.Unreachable => "unreachable",
                    RequestOutcome.ClientFailure => "client failure",
                    _ => r.Error ?? "error",
                })
                .OrderBy(g => g.Key).ToDictionary(g => g.Key, g => (long)g.Count()),
            answered.GroupBy(r => r.HostName ?? "?").OrderBy(g => g.Key).ToDictionary(g => g.Key, g => (long)g.Count()),
            evidence.Journal.Count,
            evidence.Reads.Where(r => r.Error is null).GroupBy(r => r.Application).ToDictionary(g => g.Key, g => g.First().Count),
            Invariants.All.ToDictionary(i => i, i => violations.Count(v => v.Invariant == i)),
            violations, faults);
    }

    public static string Name(FaultKind kind) => kind switch
    {
        FaultKind.Kill => "kill -9",
        FaultKind.Freeze => "SIGSTOP/SIGCONT",
        FaultKind.Restart => "graceful restart",
        FaultKind.DatabaseOutage => "PostgreSQL stop/start",
        _ => "partition",
    };

    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine($"chaos run: seed {Seed}, faults for {FaultTime.TotalMinutes:0.0} min, {TotalTime.TotalMinutes:0.0} min in all" +
            (Partitions ? "" : " (no partitions: nodes without network namespaces)"));
        text.AppendLine($"{"faults injected",-34}{FaultsInjected.Values.Sum(),12}");
        foreach (var (kind, n) in FaultsInjected) text.AppendLine($"  {kind,-32}{n,12}");
        text.AppendLine($"{"requests",-34}{Requests,12}");
        text.AppendLine($"{"answered",-34}{Answered,12}");
        text.AppendLine($"  {"new machines answered",-32}{FirstSendsAnswered,12}");
        foreach (var (host, n) in AnsweredByHost) text.AppendLine($"  {"by " + host,-32}{n,12}");
        text.AppendLine($"{"failed",-34}{Failed.Values.Sum(),12}");
        foreach (var (kind, n) in Failed) text.AppendLine($"  {kind,-32}{n,12}");
        text.AppendLine($"{"journal events (windows)",-34}{JournalEvents,12}");
        foreach (var (application, count) in FinalCounts) text.AppendLine($"  {"final count " + application,-32}{count,12}");
        text.AppendLine($"{"invariant violations",-34}{ViolationCount,12}");
        foreach (var (invariant, n) in ViolationsByInvariant) text.AppendLine($"  {invariant,-32}{n,12}");
        foreach (var violation in Violations.Take(20)) text.AppendLine($"! {violation.Invariant}: {violation.Evidence}");
        return text.ToString();
    }
}
