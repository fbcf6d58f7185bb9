using System.Diagnostics;
using System.Text.Json;

namespace KmsCluster.Testing;

/// <summary>
/// A real kms-authority process: `serve` on 127.0.0.1:0 (the bound URL from its --ready-file), or a command run
/// to its exit (`answer`, bad flags).
/// </summary>
public sealed class AuthorityProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly string _readyFile;

    private AuthorityProcess(Process process, string readyFile)
    {
        _process = process;
        _readyFile = readyFile;
    }

    /// <summary>http://127.0.0.1:PORT or https://127.0.0.1:PORT, as bound.</summary>
    public Uri Url { get; private set; } = new("http://invalid");

    /// <summary>The authority key's fingerprint, as the ready file says.</summary>
    public string Authority { get; private set; } = "";

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output) return string.Join('\n', _output);
        }
    }

    /// <summary>Starts `kms-authority serve --keys KEYS --data DATA --listen 127.0.0.1:0` plus <paramref name="extraArgs"/>
    /// and waits for its ready file.</summary>
    public static async Task<AuthorityProcess> StartAsync(string keyDirectory, string dataDirectory, params string[] extraArgs)
    {
        var readyFile = Path.Combine(Path.GetTempPath(), $"kms-authority-ready-{Guid.NewGuid():N}.json");
        var process = Start(["serve", "--keys", keyDirectory, "--data", dataDirectory, "--listen", "127.0.0.1:0",
            "--ready-file", readyFile, .. extraArgs], redirectInput: false);
        var authority = new AuthorityProcess(process, readyFile);
        process.OutputDataReceived += (_, e) => authority.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => authority.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await authority.WaitForReadyFileAsync();
        }
        catch
        {
            await authority.DisposeAsync();
            throw;
        }
        return authority;
    }

    /// <summary>Runs kms-authority with <paramref name="args"/> to its exit.</summary>
    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(params string[] args)
    {
        using var process = Start(args, redirectInput: true);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kms-authority {string.Join(' ', args)} did not exit: {await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>SIGKILL, and waits until the process is gone: nothing is flushed that was not committed.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
    }

    private async Task WaitForReadyFileAsync()
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(_readyFile))
            {
                using var ready = JsonDocument.Parse(await File.ReadAllTextAsync(_readyFile));
                Url = new Uri(ready.RootElement.GetProperty("url").GetString()!);
                Authority = ready.RootElement.GetProperty("authority").GetString()!;
                return;
            }
            if (_process.HasExited)
            {
                _process.WaitForExit();
                throw new InvalidOperationException($"kms-authority exited with {_process.ExitCode} before it was ready:\n{Output}");
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"kms-authority was not ready within {StartTimeout.TotalSeconds:0} s:\n{Output}");
    }

    private static Process Start(string[] args, bool redirectInput)
    {
        var info = DotnetProgram.StartInfo("kms-authority.dll", args, "ASPNETCORE_", redirectInput);
        return Process.Start(info) ?? throw new InvalidOperationException("could not start kms-authority");
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        catch (Exception)
        {
            // Already gone.
        }
        _process.Dispose();
        File.Delete(_readyFile);
    }
}
