using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace KmsCluster.Testing;

/// <summary>Runs ip and iptables for <see cref="NetworkLab"/>; a failure says which command failed and why.</summary>
internal static partial class NetworkCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>Both tools are there and this process may change the network; otherwise one clear sentence.</summary>
    public static async Task CheckToolsAsync()
    {
        await RunAsync("ip", ["-V"]);
        await RunAsync("iptables", ["--version"]);
        // Listing the namespaces needs no privilege; creating one does: try the cheapest change there is.
        var probe = $"kmsprobe{Environment.ProcessId}"; // not a lab name: leftover removal must not take it
        await IpAsync("netns", "add", probe);
        await IpAsync("netns", "delete", probe);
    }

    public static Task<string> IpAsync(params string[] args) => RunAsync("ip", args);

    /// <summary>iptables in namespace <paramref name="ns"/> (null: the root namespace); -w waits for the xtables lock
    /// another run may hold instead of failing.</summary>
    public static Task<string> IptablesAsync(string? ns, params string[] args) => ns is null
        ? RunAsync("iptables", ["-w", .. args])
        : RunAsync("ip", ["netns", "exec", ns, "iptables", "-w", .. args]);

    /// <summary>br_netfilter is loaded and sends bridged IPv4 frames through iptables.</summary>
    public static async Task<bool> BridgeTrafficIsFilteredAsync()
    {
        const string setting = "/proc/sys/net/bridge/bridge-nf-call-iptables";
        return File.Exists(setting) && (await File.ReadAllTextAsync(setting)).Trim() == "1";
    }

    /// <summary>The IPv4 networks this machine has addresses or routes in (namespaces of other runs are not seen,
    /// but their bridges are).</summary>
    public static async Task<IReadOnlyList<IPNetwork>> UsedIpv4NetworksAsync()
    {
        var text = await IpAsync("-4", "-o", "addr", "show") + "\n" + await IpAsync("-4", "route", "show", "table", "all");
        return Ipv4Network().Matches(text)
            .Select(m => Network(m.Value))
            .Where(n => n is { PrefixLength: > 0 })
            .Select(n => n!.Value)
            .ToList();
    }

    /// <summary>10.1.2.3/24 as 10.1.2.0/24 (IPNetwork refuses host bits); null for what is not an address.</summary>
    private static IPNetwork? Network(string text)
    {
        var slash = text.IndexOf('/');
        var prefix = slash < 0 ? 32 : int.Parse(text[(slash + 1)..]);
        if (prefix > 32 || !IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address)) return null;
        var bytes = address.GetAddressBytes();
        var mask = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
        var value = ((uint)bytes[0] << 24 | (uint)bytes[1] << 16 | (uint)bytes[2] << 8 | bytes[3]) & mask;
        return new IPNetwork(new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]), prefix);
    }

    public static async Task<string> RunAsync(string tool, IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        var commandLine = string.Join(' ', args.Prepend(tool));
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new NetworkLabException($"could not start {tool}");
        }
        catch (Win32Exception e)
        {
            var package = tool == "ip" ? "iproute2" : "iptables";
            throw new NetworkLabException(
                $"{tool} is not installed ({e.Message}): the partition tests need {package} (tests/run.sh installs it: apt-get install {package})", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new NetworkLabException($"{commandLine} did not finish within {Timeout.TotalSeconds:0} s");
            }
            var error = (await stderr).Trim();
            if (process.ExitCode == 0) return await stdout;
            if (error.Contains("Operation not permitted", StringComparison.OrdinalIgnoreCase) ||
                error.Contains("Permission denied", StringComparison.OrdinalIgnoreCase))
            {
                throw new NetworkLabException(
                    $"{commandLine}: not permitted ({error}): network namespaces need root or CAP_NET_ADMIN (and CAP_SYS_ADMIN)");
            }
            throw new NetworkLabException($"{commandLine} failed with exit code {process.ExitCode}: {error}");
        }
    }

    [GeneratedRegex(@"\b\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?\b")]
    private static partial Regex Ipv4Network();
}
