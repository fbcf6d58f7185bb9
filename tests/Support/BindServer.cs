using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using KmsCluster.Client.Discovery;

namespace KmsCluster.Testing;

/// <summary>
/// A private BIND 9 <c>named</c> for one test fixture: foreground (<c>-g</c>), its own named.conf, zone files and
/// pid file in a temp directory, listening on 127.0.0.1 at a free port (UDP and TCP), no rndc. Each zone accepts
/// dynamic updates signed with the TSIG key <see cref="KeyName"/> (update-policy zonesub), as a KMS deployment's
/// DNS server would. tests/run.sh installs BIND (tests/bind-env.sh) and names it in KMS_TEST_NAMED.
/// </summary>
public sealed class BindServer : IAsyncDisposable
{
    public const string KeyName = "kms-update";
    public const string KeyAlgorithm = "hmac-sha256";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly List<string> _output = [];
    private bool _disposed;

    private BindServer(Process process, string directory, int port, IReadOnlyList<string> zones, string secret)
    {
        _process = process;
        Directory = directory;
        Port = port;
        Zones = zones;
        KeySecret = secret;
    }

    /// <summary>The server's temp directory: named.conf, zone files, the key file.</summary>
    public string Directory { get; }
    public int Port { get; }
    public IReadOnlyList<string> Zones { get; }

    /// <summary>HOST:PORT for --dns-server.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>The TSIG secret the zones accept (base64, fresh per server).</summary>
    public string KeySecret { get; }

    /// <summary>The key in BIND's key-file format, for --dns-tsig-file.</summary>
    public string KeyFile => Path.Combine(Directory, KeyName + ".key");

    /// <summary>Everything named printed (it logs to stderr with -g).</summary>
    public string Log
    {
        get
        {
            lock (_output) return string.Join('\n', _output);
        }
    }

    /// <summary>Starts named with <paramref name="zones"/> (each a primary zone that takes TSIG-signed updates)
    /// and waits until it answers their SOA queries.</summary>
    public static async Task<BindServer> StartAsync(params string[] zones)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("BindServer runs Debian's named: Linux only");
        }
        if (zones.Length == 0) zones = ["kms.test"];
        var named = FindNamed();
        var directory = Path.Combine("/tmp", "kms-bind-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        File.WriteAllText(Path.Combine(directory, KeyName + ".key"), KeyFileText(KeyName, KeyAlgorithm, secret));
        foreach (var zone in zones)
        {
            File.WriteAllText(Path.Combine(directory, zone + ".zone"), $"""
                $TTL 60
                @ IN SOA ns.{zone}. hostmaster.{zone}. ( 1 60 60 600 60 )
                @ IN NS ns.{zone}.
                ns IN A 127.0.0.1

                """);
        }
        Exception? last = null;
        // The OS may hand the free port to someone else before named binds it: try another one.
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var port = FreePorts.Next();
            File.WriteAllText(Path.Combine(directory, "named.conf"), Config(directory, port, zones, secret));
            var server = Launch(named, directory, port, zones, secret);
            try
            {
                await server.WaitUntilAnsweringAsync();
                return server;
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                last = e;
                var inUse = server.Log.Contains("address in use", StringComparison.OrdinalIgnoreCase);
                await server.StopProcessAsync();
                if (!inUse) break;
            }
        }
        DeleteDirectory(directory);
        throw new InvalidOperationException($"named did not start: {last?.Message}", last);
    }

    /// <summary>The SRV records of _vlmcs._tcp.<paramref name="zone"/> as this server has them now.</summary>
    public Task<IReadOnlyList<SrvHost>> SrvHostsAsync(string zone) =>
        new SrvDiscovery(zone, new IPEndPoint(IPAddress.Loopback, Port), TimeSpan.FromSeconds(5)).LookUpAsync();

    /// <summary>A BIND key file for <paramref name="name"/> (what tsig-keygen writes).</summary>
    public static string KeyFileText(string name, string algorithm, string secret) =>
        $"key \"{name}\" {{\n\talgorithm {algorithm};\n\tsecret \"{secret}\";\n}};\n";

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await StopProcessAsync();
        DeleteDirectory(Directory);
    }

    private static string Config(string directory, int port, IReadOnlyList<string> zones, string secret)
    {
        var config = new StringBuilder();
        config.Append(KeyFileText(KeyName, KeyAlgorithm, secret));
        config.Append($$"""
            options {
                directory "{{directory}}";
                pid-file "{{directory}}/named.pid";
                session-keyfile "{{directory}}/session.key";
                managed-keys-directory "{{directory}}";
                listen-on port {{port}} { 127.0.0.1; };
                listen-on-v6 { none; };
                recursion no;
                dnssec-validation no;
                allow-query { any; };
                notify no;
            };
            controls { };

            """);
        foreach (var zone in zones)
        {
            config.Append($$"""
                zone "{{zone}}" {
                    type primary;
                    file "{{directory}}/{{zone}}.zone";
                    update-policy { grant {{KeyName}} zonesub ANY; };
                };

                """);
        }
        return config.ToString();
    }

    private static BindServer Launch(string named, string directory, int port, IReadOnlyList<string> zones, string secret)
    {
        var info = new ProcessStartInfo(named)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        // -g: foreground, log to stderr; -c: our config; -4: IPv4 only. As root named keeps running as root
        // (no -u), which is fine for a private test server writing only its own temp directory.
        foreach (var arg in new[] { "-g", "-4", "-c", Path.Combine(directory, "named.conf") }) info.ArgumentList.Add(arg);
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {named}");
        var server = new BindServer(process, directory, port, zones, secret);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
    }

    private async Task WaitUntilAnsweringAsync()
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        var discovery = new SrvDiscovery(Zones[0], new IPEndPoint(IPAddress.Loopback, Port), TimeSpan.FromSeconds(1));
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"named exited with {_process.ExitCode}:\n{Log}");
            }
            if (Log.Contains("running", StringComparison.Ordinal))
            {
                try
                {
                    await discovery.LookUpAsync(); // an answer (no records yet) means the zone is served
                    return;
                }
                catch (HostDiscoveryException)
                {
                    // Not answering yet.
                }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"named did not answer within {StartTimeout.TotalSeconds:0} s:\n{Log}");
    }

    private async Task StopProcessAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _ = kill(_process.Id, 15); // SIGTERM: named shuts down cleanly
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _process.WaitForExitAsync(wait.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        _process.Dispose();
    }

    private static string FindNamed()
    {
        const string hint = "run tests/run.sh once (it installs BIND 9), or apt-get install bind9 bind9-utils, or set KMS_TEST_NAMED";
        if (Environment.GetEnvironmentVariable("KMS_TEST_NAMED") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : throw new InvalidOperationException($"KMS_TEST_NAMED={configured} does not exist: {hint}");
        }
        return new[] { "/usr/sbin/named", "/usr/bin/named", "/usr/local/sbin/named" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"named is not installed: {hint}");
    }

    private static void DeleteDirectory(string directory)
    {
        try
        {
            if (System.IO.Directory.Exists(directory)) System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The OS temp cleaner gets it.
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}

/// <summary>A UDP and TCP port on 127.0.0.1 that takes DNS messages and never answers: a DNS server that hangs.</summary>
public sealed class SilentDnsServer : IDisposable
{
    private readonly Socket _udp;
    private readonly TcpListener _tcp;
    private readonly CancellationTokenSource _stop = new();
    private int _received;

    public SilentDnsServer()
    {
        // A free UDP port need not be free for TCP (another test may hold it): try again with another.
        for (var attempt = 1; ; attempt++)
        {
            _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            _udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Port = ((IPEndPoint)_udp.LocalEndPoint!).Port;
            _tcp = new TcpListener(IPAddress.Loopback, Port);
            try
            {
                _tcp.Start();
                break;
            }
            catch (SocketException) when (attempt < 50)
            {
                _udp.Dispose();
            }
        }
        _ = SwallowUdpAsync();
        _ = SwallowTcpAsync();
    }

    public int Port { get; }
    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>UDP datagrams and TCP connections that arrived (and got no answer).</summary>
    public int Received => Volatile.Read(ref _received);

    private async Task SwallowUdpAsync()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _udp.ReceiveAsync(buffer, _stop.Token);
                Interlocked.Increment(ref _received);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                if (_stop.IsCancellationRequested) return;
            }
        }
    }

    private async Task SwallowTcpAsync()
    {
        var held = new List<TcpClient>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                held.Add(await _tcp.AcceptTcpClientAsync(_stop.Token)); // accepted and never answered
                Interlocked.Increment(ref _received);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }
        finally
        {
            foreach (var client in held) client.Dispose();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _udp.Dispose();
        _tcp.Stop();
        _stop.Dispose();
    }
}
