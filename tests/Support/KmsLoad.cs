using System.Diagnostics;
using System.Text.Json;

namespace KmsCluster.Testing;

/// <summary>What one `kms load` run reported (the subset of its --json document the benchmark uses).</summary>
public sealed record KmsLoadResult(double Throughput, long Answers, long Responses, long Errors, double P50, double P99, double P999, double Max)
{
    /// <summary>With --connect-per-request: connections opened per second, and failures to open one.</summary>
    public double ConnectionsPerSecond { get; init; }

    public long ConnectErrors { get; init; }

    public static KmsLoadResult Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var latency = root.GetProperty("latencyMs");
        var errors = root.GetProperty("errors").EnumerateObject().Sum(e => e.Value.GetInt64());
        var connects = root.TryGetProperty("connects", out var c) ? c : (JsonElement?)null;
        return new KmsLoadResult(
            root.GetProperty("throughput").GetDouble(),
            root.GetProperty("answers").GetInt64(),
            root.GetProperty("responses").GetInt64(),
            errors,
            Number(latency, "p50"), Number(latency, "p99"), Number(latency, "p999"), Number(latency, "max"))
        {
            ConnectionsPerSecond = connects?.GetProperty("perSecond").GetDouble() ?? 0,
            ConnectErrors = connects?.GetProperty("errors").EnumerateObject().Sum(e => e.Value.GetInt64()) ?? 0,
        };
    }

    private static double Number(JsonElement latency, string name) =>
        latency.GetProperty(name).ValueKind == JsonValueKind.Number ? latency.GetProperty(name).GetDouble() : double.NaN;
}

/// <summary>Runs the real `kms load` as its own process, as an operator would, and reads its JSON report.</summary>
public static class KmsLoad
{
    /// <param name="servers">HOST:PORT of every server to spread the connections over.</param>
    /// <param name="resultsDirectory">Where the run's JSON report and its console output are kept, as LABEL.json / LABEL.txt.</param>
    /// <param name="arguments">The load settings, e.g. --connections 64 --pipeline 1 --duration 15s.</param>
    public static async Task<KmsLoadResult> RunAsync(IEnumerable<string> servers, string resultsDirectory, string label,
        params string[] arguments)
    {
        var json = Path.Combine(resultsDirectory, label + ".json");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kms.dll"));
        info.ArgumentList.Add("load");
        foreach (var server in servers)
        {
            info.ArgumentList.Add("--server");
            info.ArgumentList.Add(server);
        }
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.ArgumentList.Add("--json");
        info.ArgumentList.Add(json);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token);
        await File.WriteAllTextAsync(Path.Combine(resultsDirectory, label + ".txt"), await output + await error);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"kms load {label} exited {process.ExitCode}: {(await error).Trim()}");
        }
        return KmsLoadResult.Parse(await File.ReadAllTextAsync(json));
    }
}
