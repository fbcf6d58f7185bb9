using KmsCluster.Cli;
using KmsCluster.Client.Connection;

using KmsCluster.Client.Tests;

namespace KmsCluster.Cli.Tests;

public sealed class ServerAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:1700", "127.0.0.1", 1700)]
    [InlineData("kms.example.com", "kms.example.com", 1688)]
    [InlineData("kms.example.com:65535", "kms.example.com", 65535)]
    [InlineData("  10.0.0.5:1  ", "10.0.0.5", 1)]
    [InlineData("[::1]:1700", "::1", 1700)]
    [InlineData("[::1]", "::1", 1688)]
    [InlineData("[fe80::1%2]:1688", "fe80::1%2", 1688)]
    public void Parses_host_and_port_with_1688_as_the_default(string text, string host, int port)
    {
        Assert.True(ServerAddress.TryParse(text, 1688, out var address, out var error), error);
        Assert.Equal(new ServerAddress(host, port), address);
        Assert.Equal(address, ServerAddress.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(":1688")]
    [InlineData("host:")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData("host:+80")]
    [InlineData("host:port")]
    [InlineData("::1:1688")]
    [InlineData("[::1")]
    [InlineData("[::1]1688")]
    [InlineData("[::1]:x")]
    [InlineData("[]:1688")]
    [InlineData("[not:an:address]:1688")]
    public void Refuses_what_is_not_host_and_port(string text)
    {
        Assert.False(ServerAddress.TryParse(text, 1688, out _, out var error));
        Assert.NotEmpty(error);
        Assert.Throws<FormatException>(() => ServerAddress.Parse(text));
        // The command line turns the same problem into a usage error (exit code 4).
        Assert.Throws<UsageException>(() => ServerAddresses.ParseOrThrow(text));
    }

    [Fact]
    public void The_default_port_is_the_callers_choice()
    {
        Assert.Equal(new ServerAddress("127.0.0.1", 8688), ServerAddresses.ParseOrThrow("127.0.0.1", 8688));
    }

    [Theory]
    [InlineData("127.0.0.1", 1688, "127.0.0.1:1688")]
    [InlineData("::1", 1700, "[::1]:1700")]
    public void Prints_as_it_parses(string host, int port, string text)
    {
        var address = new ServerAddress(host, port);
        Assert.Equal(text, address.ToString());
        Assert.Equal(address, ServerAddress.Parse(text));
    }
}
