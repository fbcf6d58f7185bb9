using System.Diagnostics;
using System.Text;

namespace KmsCluster.Deploy.Tests;

public sealed record PodmanResult(int ExitCode, string StdOut, string StdErr)
{
    public PodmanResult OrThrow(string what) => ExitCode == 0 ? this
        : throw new InvalidOperationException($"{what} failed (exit {ExitCode}): {StdErr.Trim()}");
}

/// <summary>
/// The podman command line, with what this kind of machine needs to run containers at all: cgroups v1 mounted
/// next to a v2 hierarchy ("hybrid", which crun refuses: runc takes it), and resource limits containers may
/// not raise (no CAP_SYS_RESOURCE: podman's default of 1048576 open files fails, so the current ones are passed).
/// Where neither applies, nothing is added.
/// </summary>
public static class Podman
{
    /// <summary>Options before the podman command (run, build, ...).</summary>
    public static IReadOnlyList<string> GlobalArgs { get; } = FindGlobalArgs();

    /// <summary>Options for `podman run` and `podman build`: limits no higher than this process's.</summary>
    public static IReadOnlyList<string> LimitArgs { get; } = FindLimitArgs();

    public static async Task<PodmanResult> RunAsync(IEnumerable<string> args, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo("podman")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var arg in GlobalArgs.Concat(args)) info.ArgumentList.Add(arg);
        return await RunProcessAsync(info, timeout ?? TimeSpan.FromMinutes(5));
    }

    public static Task<PodmanResult> RunAsync(params string[] args) => RunAsync(args, null);

    /// <summary>Runs <paramref name="info"/> to its end (killed after <paramref name="timeout"/>).</summary>
    public static async Task<PodmanResult> RunProcessAsync(ProcessStartInfo info, TimeSpan timeout)
    {
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new PodmanResult(127, "", $"{info.FileName}: {e.Message}");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                return new PodmanResult(-1, await stdout, $"{await stderr}\n{info.FileName} {string.Join(' ', info.ArgumentList)}: no end within {timeout}");
            }
            return new PodmanResult(process.ExitCode, await stdout, await stderr);
        }
    }

    private static string[] FindGlobalArgs()
    {
        var unified = File.Exists("/sys/fs/cgroup/cgroup.controllers");
        var hybrid = !unified && Directory.Exists("/sys/fs/cgroup/unified");
        string[] runc = ["/usr/bin/runc", "/usr/sbin/runc"];
        return hybrid && runc.FirstOrDefault(File.Exists) is { } path ? ["--runtime", path] : [];
    }

    private static string[] FindLimitArgs()
    {
        var openFiles = HardLimit("Max open files");
        // Threads count against nproc per user; the image's user has only the node's.
        return openFiles is { } files ? ["--ulimit", $"nofile={files}:{files}", "--ulimit", "nproc=4096:4096"] : [];
    }

    private static long? HardLimit(string name)
    {
        if (!File.Exists("/proc/self/limits")) return null;
        var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal));
        var fields = line?[name.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: >= 2 } && long.TryParse(fields[1], out var hard) ? Math.Min(hard, 1048576) : null;
    }

    public static string Describe(IEnumerable<string> args)
    {
        var text = new StringBuilder("podman");
        foreach (var arg in GlobalArgs.Concat(args)) text.Append(' ').Append(arg.Contains(' ') ? $"'{arg}'" : arg);
        return text.ToString();
    }
}
