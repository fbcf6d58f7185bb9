using System.Text.Json;
using KmsCluster.Testing;
using Xunit.Abstractions;

namespace KmsCluster.Deploy.Tests;

/// <summary>One kms-node container as the tests watch it: its image's HEALTHCHECK, the cluster as `kms status`
/// inside it reports, activations with the real kms client.</summary>
/// <param name="Admin">The admin endpoint inside the container (what `kms status` there asks).</param>
/// <param name="Activation">The activation endpoint as reached from the test (host side).</param>
public sealed record NodeContainer(string Name, string Admin, string Activation, ITestOutputHelper Output)
{
    public const string Product = "windows-server-2019-standard";

    /// <summary>Until the image's HEALTHCHECK (GET /healthz with the admin token) passes. A container that
    /// exits fails at once unless <paramref name="mayRestart"/> (a restart policy brings it back).</summary>
    public async Task WaitHealthyAsync(bool mayRestart = false)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        PodmanResult check;
        while ((check = await Podman.RunAsync("healthcheck", "run", Name)).ExitCode != 0)
        {
            var state = (await Podman.RunAsync("inspect", "--format", "{{.State.Status}}", Name)).StdOut.Trim();
            if ((state != "running" && !mayRestart) || DateTime.UtcNow > deadline)
            {
                var logs = await Podman.RunAsync("logs", "--tail", "30", Name);
                Assert.Fail($"{Name} not healthy ({state}): {check.StdOut}{check.StdErr}\n{logs.StdOut}{logs.StdErr}");
            }
            await Task.Delay(1000);
        }
        Output.WriteLine($"{Name}: healthy");
    }

    /// <summary>Until this node sees <paramref name="count"/> members, all Up (kms status inside the container,
    /// with the admin token from the data directory, as an operator there finds it).</summary>
    public async Task WaitMembersUpAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        var seen = "";
        while (DateTime.UtcNow < deadline)
        {
            var status = await Podman.RunAsync("exec", Name, "kms", "status", "--admin", Admin, "--data", "/var/lib/kms", "--json");
            seen = status.StdOut + status.StdErr;
            if (status.StdOut.TrimStart().StartsWith('{') &&
                JsonDocument.Parse(status.StdOut).RootElement.GetProperty("cluster") is { ValueKind: JsonValueKind.Object } cluster)
            {
                var members = cluster.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("status").GetString()).ToList();
                seen = string.Join(", ", members);
                if (members.Count == count && members.All(s => s == "Up")) return;
            }
            await Task.Delay(1000);
        }
        Assert.Fail($"{Name} does not see {count} members Up: {seen}");
    }

    /// <summary>One machine's (<paramref name="cmid"/>) activation through this node with the real kms client;
    /// the window's count in the answer. A node that has just started may not hold its host certificate yet.</summary>
    public async Task<int> ActivateAsync(Guid cmid)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var (exit, stdout, stderr) = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey,
                "--server", Activation, "--product", Product, "--cmid", cmid.ToString(), "--json");
            var answer = stdout.TrimStart().StartsWith('{') ? JsonDocument.Parse(stdout).RootElement : default;
            if (answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("count", out var count))
            {
                Output.WriteLine($"activation of {cmid} through {Name}: exit {exit}, count {count}");
                return count.GetInt32();
            }
            if (DateTime.UtcNow > deadline) Assert.Fail($"no answer from {Name}: exit {exit}: {stdout} {stderr}");
            await Task.Delay(1000);
        }
    }

    public async Task<string> ExecAsync(params string[] command) =>
        (await Podman.RunAsync(["exec", Name, .. command])).OrThrow($"podman exec {Name}").StdOut.Trim();

    public async Task WriteLogTailAsync()
    {
        var logs = await Podman.RunAsync("logs", "--tail", "15", Name);
        Output.WriteLine($"--- {Name} (last lines)\n{logs.StdOut}{logs.StdErr}");
    }
}
