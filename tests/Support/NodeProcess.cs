using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Testing;

/// <summary>
/// A real kms-node process on free loopback ports with its own data directory. Cluster flags
/// (--cluster-port, --seed, --db, --split-brain) are passed through untouched as extra arguments.
/// </summary>
public sealed partial class NodeProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    // Linux signal numbers (x86-64 and arm64 alike); other systems number SIGSTOP/SIGCONT differently.
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private const int SigCont = 18;
    private const int SigStop = 19;

    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly List<string> _stdout = [];
    private readonly string _readyFile;
    private bool _frozen;

    private NodeProcess(Process process, string readyFile, string dataDirectory, string? adminTokenFile, NodeNetwork network)
    {
        _process = process;
        Network = network;
        _readyFile = readyFile;
        DataDirectory = dataDirectory;
        AdminTokenFile = adminTokenFile ?? Path.Combine(dataDirectory, AdminAuth.TokenFile);
    }

    /// <summary>Where the node runs: the address it binds and, in a <see cref="NetworkLab"/>, its namespace.</summary>
    public NodeNetwork Network { get; }

    /// <summary>The node's --data directory.</summary>
    public string DataDirectory { get; }

    /// <summary>The admin API's bearer token as the node read it: from its data directory, or from the file a test
    /// gave with --admin-token-file; null while there is none.</summary>
    public string? AdminToken => File.Exists(AdminTokenFile) ? File.ReadAllText(AdminTokenFile).Trim() : null;

    public string AdminTokenFile { get; }

    /// <summary>The first activation endpoint as bound (HOST:PORT).</summary>
    public string ActivationEndpoint => ActivationEndpoints[0];

    /// <summary>Every activation endpoint as bound, in the order of the --listen flags.</summary>
    public IReadOnlyList<string> ActivationEndpoints => Ready.ActivationEndpoints;
    public string AdminEndpoint => Ready.AdminEndpoint;
    public int ActivationPort => int.Parse(ActivationEndpoint[(ActivationEndpoint.LastIndexOf(':') + 1)..]);
    public Uri AdminUri => new($"http://{AdminEndpoint}");

    /// <summary>The node's name and id as it reported them in its ready file.</summary>
    public string Name => Ready.HostName;
    public string HostId => Ready.HostId.ToString();

    /// <summary>Where the journal is: the SQLite file, or host:port/database.</summary>
    public string DataLocation => Ready.JournalLocation;

    /// <summary>akka.tcp://SYSTEM@HOST:PORT of this member.</summary>
    public string? ClusterAddress => Ready.ClusterAddress;

    /// <summary>postgresql or sqlite.</summary>
    public string? Journal => Ready.Journal;

    /// <summary>Everything the node's --ready-file said.</summary>
    public NodeReady Ready { get; private set; } = None;

    private static readonly NodeReady None = new("", Guid.Empty, [], "", "", "", "", 0);

    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once the process has exited (128 + signal when a signal ended it); null before.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Everything the node printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output) return string.Join('\n', _output);
        }
    }

    /// <summary>The lines the node printed on its standard output only (not standard error).</summary>
    public IReadOnlyList<string> StdOutLines
    {
        get
        {
            lock (_output) return _stdout.ToArray();
        }
    }

    /// <summary>Pass among the extra arguments to start a node without host certificates (it is removed from them).</summary>
    public const string Uncertified = "--test-uncertified";

    /// <summary>
    /// Starts a node on 127.0.0.1:0 (activation and admin), with the demo licence unless <paramref name="extraArgs"/>
    /// name host keys or authorities of their own (<see cref="DemoLicence"/>), with <paramref name="extraArgs"/> appended, and waits
    /// until it serves: its ready line (endpoints bound), then /healthz 200 (an Up cluster member).
    /// </summary>
    public static Task<NodeProcess> StartAsync(string dataDirectory, params string[] extraArgs) =>
        StartAsync(NodeNetwork.Loopback, dataDirectory, extraArgs);

    /// <summary>As above, on <paramref name="network"/>'s address (and in its namespace).</summary>
    public static async Task<NodeProcess> StartAsync(NodeNetwork network, string dataDirectory, params string[] extraArgs)
    {
        var started = DateTime.UtcNow;
        var node = await StartBoundAsync(network, dataDirectory, extraArgs);
        try
        {
            await node.WaitUntilServingAsync(StartTimeout - (DateTime.UtcNow - started));
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
        return node;
    }

    /// <summary>
    /// Like <see cref="StartAsync"/> but returns once the node has written its ready file (endpoints bound),
    /// before it has joined a cluster: for a node that may never become a member (no seed reachable, a partition).
    /// </summary>
    public static Task<NodeProcess> StartBoundAsync(string dataDirectory, params string[] extraArgs) =>
        StartBoundAsync(NodeNetwork.Loopback, dataDirectory, extraArgs);

    /// <summary>As above, on <paramref name="network"/>'s address (and in its namespace): activation, admin and,
    /// unless <paramref name="extraArgs"/> name one, the cluster host.</summary>
    public static async Task<NodeProcess> StartBoundAsync(NodeNetwork network, string dataDirectory, params string[] extraArgs)
    {
        // A node that trusts the demo authority (the default demo licence, or --authority-key of the demo authority)
        // certifies itself with the demo key pair once its ledger confirms a key, so its answers are signed; unless
        // the test opts out or names an authority service or key pair of its own.
        var trustsDemo = DemoLicence.Unless(extraArgs).Length > 0 ||
            extraArgs.Where((_, i) => i > 0 && extraArgs[i - 1] == "--authority-key").Contains(DemoLicence.AuthorityPublicKey);
        if (trustsDemo && !extraArgs.Contains(Uncertified) && !extraArgs.Contains("--authority-url") && !extraArgs.Contains("--authority-keys"))
        {
            extraArgs = [.. extraArgs, "--authority-keys", DemoLicence.Directory];
        }
        extraArgs = extraArgs.Where(a => a != Uncertified).ToArray();
        var readyFile = Path.Combine(Path.GetTempPath(), $"kms-node-ready-{Guid.NewGuid():N}.json");
        if (network.Address != NodeNetwork.Loopback.Address && !extraArgs.Contains("--cluster-host"))
        {
            extraArgs = [.. extraArgs, "--cluster-host", network.Address];
        }
        var process = Start(["--listen", $"{network.Address}:0", "--admin", $"{network.Address}:0", "--data", dataDirectory,
            "--ready-file", readyFile, .. DemoLicence.Unless(extraArgs), .. extraArgs], execPrefix: network.ExecPrefix);
        var tokenFlag = Array.IndexOf(extraArgs, "--admin-token-file");
        var node = new NodeProcess(process, readyFile, dataDirectory, tokenFlag >= 0 ? extraArgs[tokenFlag + 1] : null, network);
        process.OutputDataReceived += (_, e) => node.OnLine(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => node.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            node.Ready = await node.WaitForReadyFileAsync();
        }
        catch (TimeoutException)
        {
            var output = node.Output;
            await node.DisposeAsync();
            throw new TimeoutException($"kms-node was not ready within {StartTimeout.TotalSeconds:0} s:\n{output}");
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
        return node;
    }

    /// <summary>Waits for the node's ready document; throws with the node's output when it exits first.</summary>
    private async Task<NodeReady> WaitForReadyFileAsync()
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            // The node renames a complete file into place, so a file that exists is whole.
            if (File.Exists(_readyFile))
            {
                return NodeReady.Parse(await File.ReadAllTextAsync(_readyFile));
            }
            if (_process.HasExited)
            {
                // Let the output readers drain so the message carries the node's last words.
                _process.WaitForExit();
                throw new InvalidOperationException($"kms-node exited with {SafeExitCode(_process)} before it was ready:\n{Output}");
            }
            await Task.Delay(50);
        }
        throw new TimeoutException();
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

    /// <summary>Parses a ready line of the node's log; null when <paramref name="line"/> is not one.</summary>
    public static ReadyLine? ParseReadyLine(string line)
    {
        var match = ReadyPattern().Match(line);
        if (!match.Success) return null;
        return new ReadyLine(
            match.Groups["name"].Value,
            match.Groups["id"].Value,
            match.Groups["activation"].Value.Split(','),
            match.Groups["admin"].Value,
            match.Groups["data"].Value,
            match.Groups["cluster"] is { Success: true } cluster ? cluster.Value : null,
            match.Groups["journal"] is { Success: true } journal ? journal.Value : null);
    }

    public Task<KmsConnection> OpenConnectionAsync() =>
        KmsConnection.ConnectAsync(Network.Address, ActivationPort, TimeSpan.FromSeconds(10));

    /// <summary>SIGTERM: the node should finish what is in flight and exit 0.</summary>
    public async Task<int> StopGracefullyAsync(TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
        {
            Signal(SigTerm);
            // A stopped process keeps SIGTERM pending until it runs again.
            if (_frozen) Thaw();
        }
        await WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(60));
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the node dies at once, with no chance to leave the cluster or flush anything.</summary>
    public void Kill()
    {
        if (!_process.HasExited) Signal(SigKill);
    }

    /// <summary>SIGSTOP: the node stops running but keeps its sockets open, as a hung or partitioned node looks to its peers.</summary>
    public void Freeze()
    {
        Signal(SigStop);
        _frozen = true;
        // The kernel stops the process asynchronously; return only once it is stopped, so a test's next step
        // cannot still be served by a thread that had not stopped yet.
        var deadline = Environment.TickCount64 + 5000;
        while (!IsStopped() && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(5);
        }
    }

    /// <summary>The process state in /proc/PID/stat is T (stopped by a signal).</summary>
    private bool IsStopped()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
            // pid (comm) state ...: the state follows the last ')' (comm may hold spaces and parentheses).
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('T');
        }
        catch (IOException)
        {
            return true; // gone
        }
    }

    /// <summary>SIGCONT: a frozen node runs again.</summary>
    public void Thaw()
    {
        Signal(SigCont);
        _frozen = false;
    }

    /// <summary>Waits for the process to exit (60 s unless given); throws TimeoutException with the output otherwise.</summary>
    public async Task WaitForExitAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        using var cts = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"kms-node {ProcessId} did not exit within {limit.TotalSeconds:0} s:\n{Output}");
        }
    }

    /// <summary>
    /// Waits until /healthz answers 200: the ready line only says the endpoints are bound, and a node answers
    /// "window-unavailable" until it is an Up member of its cluster (503 "starting" there).
    /// </summary>
    public async Task WaitUntilServingAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? StartTimeout;
        var deadline = DateTime.UtcNow + limit;
        using var http = new HttpClient { BaseAddress = AdminUri, Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", AdminAuth.AuthorizationValue(AdminToken ?? ""));
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException(
                    $"kms-node exited with {SafeExitCode(_process)} before it served:\n{Output}");
            }
            try
            {
                using var response = await http.GetAsync("/healthz");
                if (response.IsSuccessStatusCode) return;
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException(
            $"kms-node did not serve within {limit.TotalSeconds:0} s (last /healthz: {last}):\n{Output}");
    }

    /// <summary>Waits until the output contains a line matching <paramref name="pattern"/>.</summary>
    private int _disposed;

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
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        if (!_process.HasExited)
        {
            try
            {
                // SIGKILL ends a frozen process too.
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (Exception)
            {
                // Already gone.
            }
        }
        _process.Dispose();
        File.Delete(_readyFile);
    }

    private void Signal(int signal)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("NodeProcess sends Linux signal numbers");
        }
        if (SysKill(_process.Id, signal) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            // ESRCH: the process is already gone (and maybe reaped), which is what a kill wants anyway.
            if (error != 3 || signal is SigStop or SigCont)
            {
                throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed with errno {error}");
            }
        }
    }

    private void OnLine(string? line, bool stdout = false)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.Add(line);
            if (stdout) _stdout.Add(line);
        }
    }

    private static Process Start(string[] args, IReadOnlyDictionary<string, string>? environment = null,
        IReadOnlyList<string>? execPrefix = null)
    {
        // A developer's own KMS_* settings must not leak into the node under test.
        var info = DotnetProgram.StartInfo("kms-node.dll", args, "KMS_");
        if (execPrefix is { Count: > 0 })
        {
            // `ip netns exec NS dotnet kms-node.dll ...`: ip execs dotnet, which keeps the process id.
            var position = 0;
            foreach (var arg in execPrefix.Skip(1).Append(info.FileName)) info.ArgumentList.Insert(position++, arg);
            info.FileName = execPrefix[0];
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

    // data= is a path and may hold spaces, so it runs lazily up to the optional cluster=/journal= tail.
    [GeneratedRegex(@"KmsCluster node (?<name>.+?) \((?<id>[^)]*)\) ready: activation=(?<activation>\S+) admin=(?<admin>\S+) data=(?<data>.*?)(?: cluster=(?<cluster>\S+))?(?: journal=(?<journal>\S+))?\s*$")]
    private static partial Regex ReadyPattern();

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}

/// <summary>Where a node runs: the address it binds (activation, admin, cluster) and the command line prefix that
/// starts it in a network namespace (empty: the test's own namespace).</summary>
public sealed record NodeNetwork(string Address, IReadOnlyList<string> ExecPrefix)
{
    /// <summary>127.0.0.1 in the test's own namespace: what every node gets unless a test says otherwise.</summary>
    public static readonly NodeNetwork Loopback = new("127.0.0.1", []);

    /// <summary>Node <paramref name="node"/>'s namespace and address in <paramref name="lab"/>.</summary>
    public static NodeNetwork In(NetworkLab lab, int node) => new(lab.NodeAddresses[node], lab.ExecPrefix(node));
}

/// <summary>What a node's ready line in its log says (the ready file, <see cref="NodeReady"/>, says it typed).</summary>
public sealed record ReadyLine(
    string Name,
    string HostId,
    IReadOnlyList<string> ActivationEndpoints,
    string AdminEndpoint,
    string Data,
    string? ClusterAddress,
    string? Journal);
