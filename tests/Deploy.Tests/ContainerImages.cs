using System.Diagnostics;
using KmsCluster.Testing;

namespace KmsCluster.Deploy.Tests;

/// <summary>
/// The kms-node and kms-authority images as the tests build them: deploy/container/publish.sh on this machine,
/// then each Containerfile's `prepublished` target on a runtime base made from Debian's packages by
/// deploy/container/debian-base.sh (the official base and SDK images live in a registry these machines cannot
/// reach). The base is kept in podman's image store under a name with this .NET runtime's version, so later
/// runs reuse it; KMS_TEST_CONTAINER_BASE names another base (e.g. mcr.microsoft.com/dotnet/aspnet:10.0).
/// Built once for the tests of <see cref="ContainerCollection"/>; the images are removed afterwards.
/// </summary>
public sealed class ContainerImages : IAsyncLifetime
{
    private readonly TempDirectory _work = new();
    private readonly List<string> _log = [];

    public string RunId { get; } = $"kmstest{Environment.ProcessId}";
    public string Base { get; private set; } = "";
    public string NodeImage => $"localhost/kmscluster-test/node:{RunId}";
    public string AuthorityImage => $"localhost/kmscluster-test/authority:{RunId}";

    /// <summary>What was done to get the images, for the tests' output.</summary>
    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_log) return [.. _log];
        }
    }

    private void Note(string line)
    {
        lock (_log) _log.Add(line);
    }

    public async Task InitializeAsync()
    {
        var version = await Podman.RunAsync("--version");
        if (version.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"podman does not run ({version.StdErr.Trim()}): `source tests/podman-env.sh` installs it (tests/run.sh does)");
        }
        Note(version.StdOut.Trim() + (Podman.GlobalArgs.Count > 0 ? $" (with {string.Join(' ', Podman.GlobalArgs)}: cgroups v1 next to v2, which crun refuses)" : ""));
        // The compose test's PostgreSQL image is made meanwhile (mostly downloads and dpkg, not CPU).
        PostgresImage = PostgresImageAsync();
        Base = Environment.GetEnvironmentVariable("KMS_TEST_CONTAINER_BASE") is { Length: > 0 } given ? given : await DebianBaseAsync();

        var publish = Path.Combine(_work.Path, "publish");
        var args = new List<string> { publish };
#if !DEBUG
        // The test build already built the three programs in Release.
        args.Add("--no-build");
#endif
        await ShellAsync(Repository.PathOf("deploy/container/publish.sh"), args, TimeSpan.FromMinutes(5));
        Note($"published kms-node, kms, kms-authority to {publish}");

        foreach (var (file, tag) in new[] { ("Containerfile", NodeImage), ("Containerfile.authority", AuthorityImage) })
        {
            string[] build = ["build", "--format", "docker", .. Podman.LimitArgs, "-f", Repository.PathOf($"deploy/container/{file}"),
                "--target", "prepublished", "--build-arg", $"BASE={Base}", "-t", tag, publish];
            (await Podman.RunAsync(build, TimeSpan.FromMinutes(5))).OrThrow(Podman.Describe(build));
            Note($"built {tag} from deploy/container/{file} (target prepublished, BASE={Base})");
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            await PostgresImage;
        }
        catch (InvalidOperationException)
        {
            // Reported by the test that uses it.
        }
        await Podman.RunAsync("rmi", "--force", NodeImage, AuthorityImage);
        _work.Dispose();
    }

    /// <summary>A PostgreSQL image made from Debian's packages (postgres-image.sh) that stands in for the compose
    /// file's docker.io/library/postgres, which cannot be pulled here; kept in podman's store under a name with
    /// its recipe's hash, so it is made once.</summary>
    public Task<string> PostgresImage { get; private set; } = Task.FromResult("");

    private async Task<string> PostgresImageAsync()
    {
        var recipe = new[] { "postgres-image.sh", "postgres-entrypoint" }
            .Select(f => File.ReadAllBytes(Repository.PathOf($"tests/Deploy.Tests/{f}"))).SelectMany(b => b).ToArray();
        var tag = $"localhost/kmscluster-test-postgres:bookworm-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(recipe))[..12]}";
        if ((await Podman.RunAsync("image", "exists", tag)).ExitCode != 0)
        {
            await ShellAsync(Repository.PathOf("tests/Deploy.Tests/postgres-image.sh"), [tag], TimeSpan.FromMinutes(8));
            Note($"made {tag} (mmdebstrap bookworm + postgresql)");
        }
        return tag;
    }

    /// <summary>The Debian-made base for this runtime version: from podman's store, else made now.</summary>
    private async Task<string> DebianBaseAsync()
    {
        var tag = $"localhost/kmscluster-test-base:bookworm-dotnet{Environment.Version}";
        if ((await Podman.RunAsync("image", "exists", tag)).ExitCode == 0)
        {
            Note($"base {tag}: reused from podman's image store");
            return tag;
        }
        await ShellAsync(Repository.PathOf("deploy/container/debian-base.sh"), [tag], TimeSpan.FromMinutes(8));
        Note($"base {tag}: made by deploy/container/debian-base.sh (mmdebstrap bookworm + this machine's .NET runtimes)");
        return tag;
    }

    private static async Task ShellAsync(string script, IEnumerable<string> args, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repository.Root,
        };
        info.ArgumentList.Add(script);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        var result = await Podman.RunProcessAsync(info, timeout);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed (exit {result.ExitCode}):\n{result.StdOut[^Math.Min(3000, result.StdOut.Length)..]}\n{result.StdErr}");
        }
    }
}

/// <summary>The container tests share one build of the images and run one after the other.</summary>
[CollectionDefinition(Name)]
public sealed class ContainerCollection : ICollectionFixture<ContainerImages>
{
    public const string Name = "containers";
}
