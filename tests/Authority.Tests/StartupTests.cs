using System.Net;
using System.Net.Sockets;
using KmsCluster.Client.Authority;
using KmsCluster.Testing;

namespace KmsCluster.Authority.Tests;

/// <summary>Mistakes at start-up: one line on stderr and the documented exit code.</summary>
public sealed class StartupTests : IDisposable
{
    private readonly TestAuthorityKeys _keys = new();
    private readonly TempDirectory _data = new();

    private static void AssertOneLine(string stderr, string expected)
    {
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("kms-authority: ", stderr);
        Assert.Contains(expected, stderr);
    }

    [Fact]
    public async Task Bad_flags_exit_3()
    {
        var (exit, _, stderr) = await AuthorityProcess.RunAsync("serve", "--keys", _keys.Directory, "--data", _data.Path, "--nope", "x");
        Assert.Equal(3, exit);
        AssertOneLine(stderr, "unknown flag --nope");

        (exit, _, stderr) = await AuthorityProcess.RunAsync("serve", "--keys", _keys.Directory, "--data", _data.Path, "--tls-cert", "a.pem");
        Assert.Equal(3, exit);
        AssertOneLine(stderr, "--tls-cert and --tls-key go together");

        (exit, _, stderr) = await AuthorityProcess.RunAsync("serve", "--keys", _keys.Directory, "--data", _data.Path, "--listen", "nowhere");
        Assert.Equal(3, exit);
        AssertOneLine(stderr, "--listen \"nowhere\" is not ADDRESS:PORT");
    }

    [Fact]
    public async Task A_missing_key_directory_an_unreadable_store_and_a_port_in_use_exit_1()
    {
        var (exit, _, stderr) = await AuthorityProcess.RunAsync("serve", "--keys", Path.Combine(_data.Path, "none"), "--data", _data.Path);
        Assert.Equal(1, exit);
        AssertOneLine(stderr, "--keys: ");

        var broken = Directory.CreateDirectory(Path.Combine(_data.Path, "broken")).FullName;
        await File.WriteAllTextAsync(Path.Combine(broken, "authority.db"), "this is not an SQLite database, not even close to one");
        (exit, _, stderr) = await AuthorityProcess.RunAsync("serve", "--keys", _keys.Directory, "--data", broken);
        Assert.Equal(1, exit);
        AssertOneLine(stderr, "--data: cannot open the store");

        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        (exit, _, stderr) = await AuthorityProcess.RunAsync("serve", "--keys", _keys.Directory, "--data", _data.Path,
            "--listen", $"127.0.0.1:{port}");
        Assert.Equal(1, exit);
        AssertOneLine(stderr, $"--listen 127.0.0.1:{port}: cannot listen");
    }

    [Fact]
    public async Task A_client_of_an_authority_that_is_not_there_gets_the_unreachable_exception()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        using var client = new AuthorityClient(new Uri($"http://127.0.0.1:{port}"));
        using var host = new TestHost("lonely");
        await Assert.ThrowsAsync<AuthorityUnreachableException>(() =>
            client.ActivateAsync(host.Request(_keys.Issue("unreachable")), CancellationToken.None));
    }

    public void Dispose()
    {
        _keys.Dispose();
        _data.Dispose();
    }
}
