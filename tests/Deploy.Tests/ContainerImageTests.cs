using System.Text.Json.Nodes;
using KmsCluster.Node.Configuration;
using Xunit.Abstractions;

namespace KmsCluster.Deploy.Tests;

/// <summary>The images' configuration (user, entrypoint, ports, volume, health check, stop signal) and what
/// their users find inside: a non-root user, the programs, every setting as a KMS_* variable.</summary>
[Collection(ContainerCollection.Name)]
public sealed class ContainerImageTests(ContainerImages images, ITestOutputHelper output)
{
    [Fact]
    public async Task The_node_image_runs_kms_node_as_a_non_root_user_with_its_data_in_a_volume()
    {
        foreach (var line in images.Log) output.WriteLine(line);
        var image = await InspectAsync(images.NodeImage);
        var config = image["Config"]!;
        Assert.Equal("kms", (string?)config["User"]);
        Assert.Equal(["dotnet", "/opt/kmscluster/node/kms-node.dll"], Strings(config["Entrypoint"]));
        Assert.Equal(["1688/tcp", "4053/tcp", "8558/tcp", "8688/tcp"], config["ExposedPorts"]!.AsObject().Select(p => p.Key).Order());
        Assert.Equal(["/var/lib/kms"], config["Volumes"]!.AsObject().Select(p => p.Key));
        Assert.Equal("/var/lib/kms", (string?)config["WorkingDir"]);
        Assert.Equal("SIGTERM", (string?)config["StopSignal"]);
        Assert.Equal(["CMD", "/usr/local/bin/kms-healthcheck"], Strings(image["Healthcheck"]?["Test"]));

        // Every image default is a setting of a real flag, and the data directory is the volume.
        var env = Environment(config);
        var variables = NodeFlags.All.Select(f => f.EnvironmentVariable).ToHashSet();
        Assert.All(env.Keys.Where(k => k.StartsWith("KMS_", StringComparison.Ordinal)), key => Assert.Contains(key, variables));
        Assert.Equal("/var/lib/kms", env[NodeFlags.Data.EnvironmentVariable]);
        Assert.Equal("0.0.0.0:1688", env[NodeFlags.Listen.EnvironmentVariable]);
        Assert.Equal("0.0.0.0:8688", env[NodeFlags.Admin.EnvironmentVariable]);
        Assert.Equal("4053", env[NodeFlags.ClusterPort.EnvironmentVariable]);

        // Inside: the user's uid (as Kubernetes' runAsUser names it), the volume's owner, the programs.
        var inside = await RunAsync(images.NodeImage, "bash", "-c",
            "id -u; id -g; stat -c '%u %a' /var/lib/kms; test -x /usr/local/bin/kms-healthcheck && test -x /usr/local/bin/kms && echo programs");
        Assert.Equal(["10001", "10001", "10001 750", "programs"], Lines(inside));
        // kms-node's help lists every flag with its variable, and the kms command line answers.
        var help = await RunAsync(images.NodeImage, "dotnet", "/opt/kmscluster/node/kms-node.dll", "--help");
        Assert.All(NodeFlags.All, flag => Assert.Matches($@"\b{flag.EnvironmentVariable}\b", help));
        Assert.Contains("activate", await RunAsync(images.NodeImage, "kms", "--help"));
    }

    [Fact]
    public async Task The_authority_image_serves_as_a_non_root_user_with_its_store_in_a_volume()
    {
        var image = await InspectAsync(images.AuthorityImage);
        var config = image["Config"]!;
        Assert.Equal("kms-authority", (string?)config["User"]);
        Assert.Equal(["dotnet", "/opt/kmscluster/authority/kms-authority.dll"], Strings(config["Entrypoint"]));
        Assert.Equal(["serve"], Strings(config["Cmd"]));
        Assert.Equal(["8443/tcp"], config["ExposedPorts"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["/var/lib/kms-authority"], config["Volumes"]!.AsObject().Select(p => p.Key));
        Assert.Equal("SIGTERM", (string?)config["StopSignal"]);
        Assert.Equal(["CMD", "/usr/local/bin/kms-authority-healthcheck"], Strings(image["Healthcheck"]?["Test"]));
        var env = Environment(config);
        var variables = KmsCluster.Authority.Configuration.AuthorityCommandLine.ServeFlagNames
            .Select(KmsCluster.Authority.Configuration.AuthorityCommandLine.EnvironmentVariable).ToHashSet();
        Assert.All(env.Keys.Where(k => k.StartsWith("KMS_", StringComparison.Ordinal)), key => Assert.Contains(key, variables));
        Assert.Equal(["10002", "10002 750"],
            Lines(await RunAsync(images.AuthorityImage, "bash", "-c", "id -u; stat -c '%u %a' /var/lib/kms-authority")));
    }

    private static async Task<JsonNode> InspectAsync(string image)
    {
        var result = (await Podman.RunAsync("image", "inspect", image)).OrThrow($"podman image inspect {image}");
        return JsonNode.Parse(result.StdOut)!.AsArray().Single()!;
    }

    private static async Task<string> RunAsync(string image, string entrypoint, params string[] args)
    {
        string[] run = ["run", "--rm", .. Podman.LimitArgs, "--network", "none", "--entrypoint", entrypoint, image, .. args];
        return (await Podman.RunAsync(run, TimeSpan.FromMinutes(2))).OrThrow(Podman.Describe(run)).StdOut;
    }

    private static string[] Strings(JsonNode? node) => node?.AsArray().Select(n => (string)n!).ToArray() ?? [];

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Dictionary<string, string> Environment(JsonNode config) =>
        Strings(config["Env"]).Select(e => e.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
}
