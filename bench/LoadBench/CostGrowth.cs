using System.Globalization;
using KmsCluster.Testing;

namespace KmsCluster.Bench.Load;

/// <summary>Distinct machines 10k, 100k, 1M on a fresh SQLite node: each stage brings machines never seen before.</summary>
internal static class CostGrowth
{
    public static async Task RunAsync(string results)
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--name", "bench");
        Console.WriteLine();
        Console.WriteLine("Cost growth, one node on SQLite, C=64 D=16, every request a machine never seen before:");
        Console.WriteLine();
        Console.WriteLine("| distinct machines so far | activations/s in this stage | p99 ms | node memory (RSS) MiB | database on disk MiB |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        Console.WriteLine(Report.Invariant($"| 0 (started) | | | {ResidentMiB(node.ProcessId):0} | {DatabaseMiB(data.Path):0.0} |"));
        var seen = 0;
        var seed = 100;
        foreach (var total in new[] { 10_000, 100_000, 1_000_000 })
        {
            var fresh = total - seen;
            var stage = await KmsLoad.RunAsync([node.ActivationEndpoint], results, $"growth-{total}",
                "--connections", "64", "--pipeline", "16", "--clients", fresh.ToString(CultureInfo.InvariantCulture),
                "--requests", fresh.ToString(CultureInfo.InvariantCulture), "--seed", (seed++).ToString(CultureInfo.InvariantCulture));
            seen = total;
            Console.WriteLine(Report.Invariant($"| {total:N0} | {stage.Throughput:0} | {stage.P99:0.00} | {ResidentMiB(node.ProcessId):0} | {DatabaseMiB(data.Path):0.0} |"));
        }
    }

    private static double ResidentMiB(int processId)
    {
        var line = File.ReadLines($"/proc/{processId}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    // The journal file and its write-ahead log: what the node keeps on disk.
    private static double DatabaseMiB(string dataDirectory) =>
        Directory.GetFiles(dataDirectory, "kms.db*").Sum(f => new FileInfo(f).Length) / 1024.0 / 1024.0;
}
