namespace KmsCluster.Cli.Tests;

/// <summary>--discover, --dns-server and --server on the commands that find hosts.</summary>
public sealed class DiscoveryFlagsTests
{
    [Theory]
    [InlineData("--server and --discover exclude each other", "activate", "--server", "127.0.0.1", "--discover", "kms.example", "--product", "windows-11-pro")]
    [InlineData("name a host with --server HOST[:PORT] or find them with --discover DOMAIN", "activate", "--product", "windows-11-pro")]
    [InlineData("--dns-server is for --discover", "activate", "--server", "127.0.0.1", "--dns-server", "127.0.0.1:5353", "--product", "windows-11-pro")]
    [InlineData("\"kms..example\" is not a domain name", "activate", "--discover", "kms..example", "--product", "windows-11-pro")]
    [InlineData("\"127.0.0.1:99999\": port must be a number from 1 to 65535", "discover", "kms.example", "--dns-server", "127.0.0.1:99999")]
    public async Task Discovery_flags_that_do_not_fit_are_usage_errors(string expected, params string[] args)
    {
        var (exit, _, stderr) = await CliTests.RunAsync(args);
        Assert.Equal(4, exit);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_takes_discover_instead_of_server_and_not_both()
    {
        var (exit, _, stderr) = await CliTests.RunAsync("load", "--server", "127.0.0.1", "--discover", "kms.example", "--requests", "1");
        Assert.Equal(4, exit);
        Assert.StartsWith("kms load: --server and --discover exclude each other", stderr, StringComparison.Ordinal);
    }
}
