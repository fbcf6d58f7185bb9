using System.Text.Json;
using KmsCluster.Testing;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Node.Tests;

/// <summary>The `kms` command line against a real node: output, JSON and exit codes.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Activate_exits_1_below_the_threshold_and_0_once_reached_with_the_documented_json()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path);

        for (var i = 1; i <= 5; i++)
        {
            var (exit, stdout, stderr) = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey, "--server", node.ActivationEndpoint,
                "--product", "windows-server-2019-standard", "--cmid", Guid.NewGuid().ToString(),
                "--workstation", $"srv{i}", "--json");
            Assert.True(exit == (i < 5 ? 1 : 0), $"exit {exit}: {stdout} {stderr}");
            var json = JsonDocument.Parse(stdout).RootElement;
            Assert.Equal(i == 5, json.GetProperty("activated").GetBoolean());
            Assert.Equal(i, json.GetProperty("count").GetInt32());
            Assert.Equal(5, json.GetProperty("threshold").GetInt32());
            Assert.Equal(120, json.GetProperty("activationIntervalMinutes").GetInt32());
            Assert.Equal(10080, json.GetProperty("renewalIntervalMinutes").GetInt32());
            Assert.False(string.IsNullOrEmpty(json.GetProperty("host").GetString()));
            Assert.Equal(i == 5 ? JsonValueKind.String : JsonValueKind.Null, json.GetProperty("validUntil").ValueKind);
        }

        var text = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey, "--server", node.ActivationEndpoint, "--product", "Windows Server 2019 Datacenter",
            "--cmid", Guid.NewGuid().ToString());
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("activated by", text.StdOut);
        Assert.Contains("count 6/5", text.StdOut);

        var window = await KmsCli.RunAsync("window", "--admin", node.AdminEndpoint, "--data", data.Path, "--application", "windows");
        Assert.Equal(0, window.ExitCode);
        Assert.Contains("count 6", window.StdOut);
        Assert.Contains("srv3", window.StdOut);

        var windowJson = await KmsCli.RunAsync("window", "--admin", node.AdminEndpoint, "--data", data.Path, "--json");
        Assert.Equal(0, windowJson.ExitCode);
        Assert.Equal(["windows", "office"], JsonSerializer.Deserialize(windowJson.StdOut, AdminJson.Http.WindowsJson)!.Windows.Select(w => w.Application));
    }

    [Fact]
    public async Task Errors_get_exit_codes_of_2_or_more_and_a_message_on_stderr()
    {
        // Nothing listens on this port: unreachable is 3.
        var unreachable = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey, "--server", "127.0.0.1:1", "--product", "windows-11-pro", "--timeout", "5");
        Assert.Equal(3, unreachable.ExitCode);
        Assert.Contains("cannot connect", unreachable.StdErr);

        // A product the catalogue does not know is a usage error (4) with suggestions.
        var unknown = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey, "--server", "127.0.0.1:1", "--product", "windows-11-prof");
        Assert.Equal(4, unknown.ExitCode);
        Assert.Contains("windows-11-pro", unknown.StdErr);

        var badCmid = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey, "--server", "127.0.0.1:1", "--product", "windows-11-pro", "--cmid", "nope");
        Assert.Equal(4, badCmid.ExitCode);

        var missing = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey, "--product", "windows-11-pro");
        Assert.Equal(4, missing.ExitCode);
        Assert.Contains("--server", missing.StdErr);
    }

    [Fact]
    public async Task A_refusal_by_the_host_exits_2_with_the_code_and_message()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path);
        // A product id only this client claims to know: the host's catalogue refuses it.
        var (exit, _, stderr) = await KmsCli.RunAsync("activate", "--authority-key", DemoLicence.AuthorityPublicKey, "--server", node.ActivationEndpoint,
            "--product", Guid.NewGuid().ToString(), "--application", "windows");
        Assert.Equal(2, exit);
        Assert.Contains("unknown-product (3)", stderr);
    }

    [Fact]
    public async Task Products_lists_the_catalogue_as_text_and_json()
    {
        var (exit, stdout, _) = await KmsCli.RunAsync("products", "--json");
        Assert.Equal(0, exit);
        var products = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToArray();
        Assert.Equal(ProductCatalog.Default.Products.Count, products.Length);
        var enterprise = products.Single(p => p.GetProperty("slug").GetString() == "windows-11-enterprise");
        Assert.Equal(25, enterprise.GetProperty("threshold").GetInt32());
        Assert.Equal("windows", enterprise.GetProperty("application").GetString());

        var text = await KmsCli.RunAsync("products");
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("office-ltsc-2024-professional-plus", text.StdOut);
    }
}
