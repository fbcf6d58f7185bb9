using System.Diagnostics;

namespace KmsCluster.Testing;

/// <summary>How the harness starts one of the programs built next to it (kms-node.dll, kms-authority.dll).</summary>
public static class DotnetProgram
{
    /// <summary>`dotnet DLL ARGS` in the test directory, output redirected, without the environment variables
    /// whose names start with <paramref name="privatePrefix"/> (a developer's own settings must not leak in).</summary>
    public static ProcessStartInfo StartInfo(string dll, IEnumerable<string> args, string privatePrefix, bool redirectInput = false)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith(privatePrefix, StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }
        return info;
    }
}
