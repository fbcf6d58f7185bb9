using System.Text.Json;
using KmsCluster.Cli;
using static KmsCluster.Client.Tests.TestRequests;

using KmsCluster.Client.Tests;

namespace KmsCluster.Cli.Tests;

/// <summary>Runs <c>kms load</c> in-process and reads its JSON report.</summary>
internal static class LoadTestSupport
{
    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await KmsCommandLine.RunAsync(["load", .. args], stdout, stderr).WaitAsync(Patience);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs with <c>--json</c> to a temporary file and returns the parsed report.</summary>
    public static async Task<(int ExitCode, JsonElement Report, string StdOut, string StdErr)> RunJsonAsync(params string[] args)
    {
        var path = Path.Combine(Path.GetTempPath(), $"kms-load-{Guid.NewGuid():n}.json");
        try
        {
            var (exit, stdout, stderr) = await RunAsync([.. args, "--json", path]);
            Assert.True(File.Exists(path), $"exit {exit}, no JSON report; stderr: {stderr}");
            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(path));
            return (exit, document.RootElement.Clone(), stdout, stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static long Long(this JsonElement element, string name) => element.GetProperty(name).GetInt64();

    public static double Double(this JsonElement element, string name) => element.GetProperty(name).GetDouble();
}
