using System.Diagnostics;

namespace KmsCluster.Bench.Load;

/// <summary>The baseline server (bench/EchoServer) as a child process on a free loopback port.</summary>
public sealed class EchoProcess : IAsyncDisposable
{
    private readonly Process _process;

    private EchoProcess(Process process, string endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    public int ProcessId => _process.Id;

    public static async Task<EchoProcess> StartAsync()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kms-echo.dll"));
        info.ArgumentList.Add("--listen");
        info.ArgumentList.Add("127.0.0.1:0");
        var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            const string ready = "kms-echo ready: activation=";
            if (line.StartsWith(ready, StringComparison.Ordinal))
            {
                return new EchoProcess(process, line[ready.Length..].Trim());
            }
        }
        process.Kill();
        throw new InvalidOperationException("kms-echo exited before it was ready");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
