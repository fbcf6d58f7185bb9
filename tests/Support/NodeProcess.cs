using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using KmsCluster.Client.Connection;

namespace KmsCluster.Node.Tests.Harness;

/// <summary>A real kms-node process on free loopback ports with its own data directory.</summary>
public sealed partial class NodeProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly TaskCompletionSource<Match> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NodeProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The first activation endpoint as bound (HOST:PORT).</summary>
    public string ActivationEndpoint => ActivationEndpoints[0];

    /// <summary>Every activation endpoint as bound, in the order of the --listen flags.</summary>
    public IReadOnlyList<string> ActivationEndpoints { get; private set; } = [];
    public string AdminEndpoint { get; private set; } = "";
    public int ActivationPort => int.Parse(ActivationEndpoint[(ActivationEndpoint.LastIndexOf(':') + 1)..]);
    public Uri AdminUri => new($"http://{AdminEndpoint}");
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the node printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output) return string.Join('\n', _output);
        }
    }

    /// <summary>Starts a node and waits until it reports its bound endpoints.</summary>
    public static async Task<NodeProcess> StartAsync(string dataDirectory, params string[] extraArgs)
    {
        var process = Start(["--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--data", dataDirectory, .. extraArgs]);
        var node = new NodeProcess(process);
        process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => node._ready.TrySetException(
            new InvalidOperationException($"kms-node exited with {SafeExitCode(process)} before it was ready:\n{node.Output}"));
        try
        {
            var ready = await node._ready.Task.WaitAsync(StartTimeout);
            node.ActivationEndpoints = ready.Groups["activation"].Value.Split(',');
            node.AdminEndpoint = ready.Groups["admin"].Value;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
        return node;
    }

    /// <summary>Runs kms-node to completion (for start-up failures); returns exit code and output.</summary>
    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunToExitAsync(
        IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var process = Start(args, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("kms-node did not exit: " + await stdout);
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    public Task<KmsConnection> OpenConnectionAsync() =>
        KmsConnection.ConnectAsync("127.0.0.1", ActivationPort, TimeSpan.FromSeconds(10));

    /// <summary>SIGTERM: the node should finish what is in flight and exit 0.</summary>
    public async Task<int> StopGracefullyAsync(TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
        {
            _ = SysKill(_process.Id, 15);
        }
        await WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(60));
        return _process.ExitCode;
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    /// <summary>Waits until the output contains a line matching <paramref name="pattern"/>.</summary>
    public async Task<bool> WaitForOutputAsync(string pattern, TimeSpan timeout)
    {
        var regex = new Regex(pattern);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (regex.IsMatch(Output)) return true;
            await Task.Delay(50);
        }
        return regex.IsMatch(Output);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (Exception)
            {
                // Already gone.
            }
        }
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
        if (ReadyLine().Match(line) is { Success: true } match)
        {
            _ready.TrySetResult(match);
        }
    }

    private static Process Start(string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kms-node.dll"));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        // A developer's own KMS_* settings must not leak into the node under test.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("KMS_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }
        if (environment is not null)
        {
            foreach (var (key, value) in environment) info.Environment[key] = value;
        }
        return Process.Start(info) ?? throw new InvalidOperationException("could not start kms-node");
    }

    private static string SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode.ToString();
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }

    [GeneratedRegex(@"ready: activation=(?<activation>\S+) admin=(?<admin>\S+)")]
    private static partial Regex ReadyLine();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}
