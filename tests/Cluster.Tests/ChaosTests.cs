using KmsCluster.Testing.Chaos;
using Xunit.Abstractions;

namespace KmsCluster.Cluster.Tests;

/// <summary>
/// The chaos run in CI (docs/chaos.md): two minutes of a seeded schedule of kill -9, SIGSTOP/SIGCONT, graceful
/// restarts, PostgreSQL outages and partitions under fleet load, then the history checker over every request, the
/// journal's history and every node's windows.
/// </summary>
public sealed class ChaosTests(ITestOutputHelper output)
{
    private const int Seed = 15;

    [Fact]
    public async Task Two_minutes_of_seeded_faults_under_load_break_no_invariant()
    {
        // Kept when the test fails: requests.jsonl, report.json and every node's log are the evidence.
        var directory = Path.Combine(Path.GetTempPath(), "kms-chaos-test", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-seed{Seed}");
        var report = await ChaosRun.RunAsync(new ChaosOptions
        {
            Seed = Seed, Duration = TimeSpan.FromMinutes(2), Directory = directory, Log = output.WriteLine,
        });
        var table = $"{report.ToTable()}\nrun files: {directory}";

        Assert.True(report.ViolationCount == 0, table);
        Assert.True(report.FaultsInjected.All(f => f.Value > 0), $"a fault kind was never injected:\n{table}");
        // Under the faults the cluster kept answering, new machines included (the contacts that change counts).
        Assert.True(report.Answered >= 1000, $"only {report.Answered} requests answered:\n{table}");
        Assert.True(report.FirstSendsAnswered >= 40, $"only {report.FirstSendsAnswered} new machines answered:\n{table}");
        Assert.Equal(2, report.FinalCounts.Count);
        Directory.Delete(directory, recursive: true);
    }
}
