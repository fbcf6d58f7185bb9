using System.Net;
using System.Text.Json;
using KmsCluster.Testing;
using Xunit.Abstractions;

namespace KmsCluster.Deploy.Tests;

/// <summary>The kms-authority image serves with its key pair mounted read-only and its store in the volume,
/// set up by KMS_* variables alone; its HEALTHCHECK passes, and SIGTERM stops it cleanly.</summary>
[Collection(ContainerCollection.Name)]
public sealed class AuthorityContainerTests(ContainerImages images, ITestOutputHelper output) : IAsyncLifetime
{
    private string Name => $"{images.RunId}-authority";

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        var logs = await Podman.RunAsync("logs", "--tail", "15", Name);
        output.WriteLine($"--- {Name} (last lines)\n{logs.StdOut}{logs.StdErr}");
        await Podman.RunAsync("rm", "--force", "--time", "5", Name);
        await Podman.RunAsync("volume", "rm", "--force", Name);
    }

    [Fact]
    public async Task The_authority_container_serves_its_health_and_stops_on_SIGTERM()
    {
        var port = FreePorts.Next();
        string[] run =
        [
            "run", "--detach", "--name", Name, .. Podman.LimitArgs, "--network", "host", "--read-only", "--tmpfs", "/tmp",
            "--volume", $"{Name}:/var/lib/kms-authority", "--volume", $"{DemoLicence.Directory}:/etc/kms-authority/keys:ro",
            "--env", $"KMS_LISTEN=127.0.0.1:{port}",
            images.AuthorityImage,
        ];
        (await Podman.RunAsync(run, TimeSpan.FromMinutes(1))).OrThrow(Podman.Describe(run));

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        PodmanResult check;
        while ((check = await Podman.RunAsync("healthcheck", "run", Name)).ExitCode != 0)
        {
            var logs = await Podman.RunAsync("logs", "--tail", "20", Name);
            Assert.True(DateTime.UtcNow < deadline, $"{Name} not healthy: {check.StdOut}{check.StdErr}\n{logs.StdOut}{logs.StdErr}");
            await Task.Delay(1000);
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync($"http://127.0.0.1:{port}/api/v1/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        // Its SQLite store is in the volume (the image's KMS_DATA).
        Assert.Contains("/var/lib/kms-authority", health.GetRawText());
        var files = (await Podman.RunAsync("exec", Name, "ls", "/var/lib/kms-authority")).OrThrow("podman exec ls").StdOut;
        Assert.Contains("authority.db", files);

        (await Podman.RunAsync(["stop", "--time", "20", Name], TimeSpan.FromMinutes(1))).OrThrow("podman stop");
        Assert.Equal("0", (await Podman.RunAsync("inspect", "--format", "{{.State.ExitCode}}", Name)).StdOut.Trim());
    }
}
