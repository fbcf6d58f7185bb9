using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace KmsCluster.Deploy.Tests;

/// <summary>
/// The Containerfiles' default target (publish inside mcr.microsoft.com/dotnet/sdk, run on .../aspnet) is not
/// built here: these machines reach no container registry. The tests build the `prepublished` target instead;
/// this checks that the two differ only in where the published files come from.
/// </summary>
public sealed partial class ContainerfileTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("deploy/container/Containerfile")]
    [InlineData("deploy/container/Containerfile.authority")]
    public void The_default_target_copies_what_the_prepublished_one_does_from_the_SDK_stage(string file)
    {
        output.WriteLine($"not built here: {file}'s default target (FROM mcr.microsoft.com/dotnet/sdk:10.0 and aspnet:10.0): " +
            "no container registry can be reached from these machines; its prepublished target is built and run instead");
        var stages = Stages(File.ReadAllText(Repository.PathOf(file)));
        Assert.Equal(["publish", "runtime", "prepublished", "image"], stages.Keys);
        Assert.Matches(@"^FROM \$\{SDK\} AS publish$", stages["publish"][0]);
        Assert.Contains("RUN deploy/container/publish.sh /out", stages["publish"]);
        Assert.Matches(@"^FROM \$\{BASE\} AS runtime$", stages["runtime"][0]);
        Assert.Equal("FROM runtime AS prepublished", stages["prepublished"][0]);
        Assert.Equal("FROM runtime AS image", stages["image"][0]);

        // COPY SRC DEST from the build context vs COPY --from=publish /out/SRC DEST: the same files, the same user.
        var prepublished = stages["prepublished"].Skip(1).ToList();
        var image = stages["image"].Skip(1).Select(line => line.Replace("COPY --from=publish /out/", "COPY ")).ToList();
        Assert.Equal(prepublished, image);
        Assert.Contains(prepublished, line => line.StartsWith("USER ", StringComparison.Ordinal) && line != "USER root");
        Assert.Equal("image", stages.Keys.Last());
        Assert.Matches(@"ARG BASE=mcr\.microsoft\.com/dotnet/aspnet:10\.0", File.ReadAllText(Repository.PathOf(file)));
    }

    [Fact]
    public void The_source_build_context_leaves_out_host_build_output_and_git_history()
    {
        // The SDK stage copies the repository root: obj/ from this machine would carry its paths into restore.
        var ignored = File.ReadAllLines(Repository.PathOf(".dockerignore")).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Contains("**/bin", ignored);
        Assert.Contains("**/obj", ignored);
        Assert.Contains(".git", ignored);
        // ... but keeps what publish.sh needs.
        Assert.DoesNotContain(ignored, pattern => pattern is "deploy" or "src" or "deploy/container" or "*.sh");
    }

    /// <summary>Each stage's instructions (continuation lines joined, comments dropped), by stage name.</summary>
    private static Dictionary<string, List<string>> Stages(string text)
    {
        var stages = new Dictionary<string, List<string>>();
        List<string>? current = null;
        foreach (var line in text.Replace("\\\n", " ").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            if (FromLine().Match(line) is { Success: true } from)
            {
                current = stages[from.Groups[1].Value] = [];
            }
            current?.Add(Regex.Replace(line, @"\s+", " "));
        }
        return stages;
    }

    [GeneratedRegex(@"^FROM \S+ AS (\S+)$")]
    private static partial Regex FromLine();
}
