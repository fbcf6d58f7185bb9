using System.Diagnostics;
using System.Text.Json;

namespace KmsCluster.Testing.Chaos;

/// <summary>
/// A chaos run: a 3-node cluster on a private PostgreSQL server under the fleet's load, the seeded fault schedule
/// for <see cref="ChaosOptions.Duration"/>, then everything healed and settled, every window read through every
/// node, the journal's history read, and the checker's verdict as a <see cref="ChaosReport"/> (also written to the
/// run's directory with requests.jsonl and the nodes' logs).
/// </summary>
public static class ChaosRun
{
    public const string Database = "kms";
    public const int Nodes = 3;
    public static readonly string[] Applications = ["windows", "office"];

    public static async Task<ChaosReport> RunAsync(ChaosOptions options)
    {
        Directory.CreateDirectory(options.Directory);
        var startedAt = DateTimeOffset.UtcNow;
        var log = options.Log ?? (_ => { });
        log($"chaos run: seed {options.Seed}, {options.Duration.TotalMinutes:0.#} min of faults, files in {options.Directory}");
        await using var chaos = await ChaosCluster.StartAsync(Database, Nodes, options.Partitions, options.EveryNodeASeed);
        var (database, cluster, partitioner) = (chaos.Database, chaos.Cluster, chaos.Partitioner);
        var logs = new NodeLogs(cluster, options.Directory);
        try
        {
            await JournalHistory.InstallAsync(database, Database);
            foreach (var application in Applications) await cluster.OwnerIndexAsync(application, options.Settle);

            var faults = new List<FaultRecord>();
            var injector = new FaultInjector(cluster, database, partitioner, options, logs);
            await using var recorder = new HistoryRecorder(Path.Combine(options.Directory, "requests.jsonl"));
            var clock = Stopwatch.StartNew();
            await using (var load = new FleetLoad(cluster, Fleet.Plan(options.Seed, options.Duration), recorder, options))
            {
                load.Start();
                foreach (var step in FaultSchedule.Create(options.Seed, Nodes))
                {
                    if (clock.Elapsed >= options.Duration) break;
                    log($"{clock.Elapsed:mm\\:ss} fault {step.Number}: {ChaosReport.Name(step.Kind)} on {step.Target}, {step.Hold.TotalSeconds:0.0} s");
                    var fault = await injector.InjectAsync(step);
                    faults.Add(fault);
                    log($"{clock.Elapsed:mm\\:ss}   {fault.Target}: {string.Join("; ", fault.Notes)} ({recorder.Count} requests so far)");
                    await Task.Delay(step.Pause);
                }
                // Heal everything, start what is down, and let the cluster settle before the load stops.
                if (partitioner is not null) await partitioner.HealAsync();
                if (!database.IsRunning) await database.StartAgainAsync();
                await injector.RecoverAsync(null, -1, []);
                await load.StopAsync();
            }
            var faultTime = clock.Elapsed;
            log($"{faultTime:mm\\:ss} load stopped after {recorder.Count} requests; reading the windows and the journal");

            var reads = await WindowReader.ReadSettledAsync(cluster, Applications, options.Settle);
            var journal = await JournalHistory.ReadAsync(database, Database);
            await JournalHistory.WriteAsync(journal, Path.Combine(options.Directory, "journal.tsv"));
            var evidence = new ChaosEvidence(recorder.Records, journal, reads);
            var violations = injector.Problems.Concat(HistoryChecker.Check(evidence)).ToList();
            var report = ChaosReport.Of(options, startedAt, faultTime, partitioner is not null, faults, evidence, violations);
            await File.WriteAllTextAsync(Path.Combine(options.Directory, "report.json"),
                JsonSerializer.Serialize(report, new JsonSerializerOptions(HistoryRecorder.Json) { WriteIndented = true }));
            log(report.ToTable());
            return report;
        }
        catch (Exception e)
        {
            log($"the run failed: {e}");
            throw;
        }
        finally
        {
            await logs.SaveAllAsync();
        }
    }
}
