using System.Globalization;
using KmsCluster.Testing.Chaos;

// dotnet run --project bench/Chaos -c Release -- --seed N --minutes M [--workers W] [--out DIR] [--no-partitions] [--every-node-a-seed]
// Exit code 0: no invariant violated; 1: violations (listed, and in DIR/report.json); 2: bad arguments.
var seed = 1;
var minutes = 30.0;
var workers = 6;
var partitions = true;
var everyNodeASeed = false;
string? directory = null;
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    try
    {
        switch (args[i])
        {
            case "--seed": seed = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--minutes": minutes = double.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--workers": workers = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--out": directory = Value(); break;
            case "--no-partitions": partitions = false; break;
            case "--every-node-a-seed": everyNodeASeed = true; break;
            default: throw new ArgumentException($"unknown argument {args[i]} (--seed N, --minutes M, --workers W, --out DIR, --no-partitions, --every-node-a-seed)");
        }
    }
    catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
    {
        Console.Error.WriteLine($"chaos: {e.Message}");
        return 2;
    }
}
if (minutes <= 0 || workers <= 0)
{
    Console.Error.WriteLine("chaos: --minutes and --workers must be more than zero");
    return 2;
}
directory ??= Path.Combine(Path.GetTempPath(), "kms-chaos", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-seed{seed}");
var report = await ChaosRun.RunAsync(new ChaosOptions
{
    Seed = seed, Duration = TimeSpan.FromMinutes(minutes), Workers = workers, Directory = directory, Partitions = partitions, EveryNodeASeed = everyNodeASeed,
    Log = line => Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}"),
});
Console.WriteLine($"report: {Path.Combine(directory, "report.json")}");
return report.ViolationCount == 0 ? 0 : 1;
