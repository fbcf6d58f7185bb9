using KmsCluster.Protocol.Admin;

namespace KmsCluster.Cli.Tests;

/// <summary>Where the admin commands take the admin API's bearer token from, and what they do without one.</summary>
public sealed class AdminTokenTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"kms-cli-token-{Guid.NewGuid():N}");

    private static readonly ClusterJson Cluster = new("akka.tcp://kms@127.0.0.1:4053", "Up", null, null, "sqlite",
        "keep-majority", [], []);

    [Fact]
    public async Task The_token_comes_from_the_data_directory_unless_given_with_token()
    {
        Directory.CreateDirectory(_data);
        await File.WriteAllTextAsync(Path.Combine(_data, AdminAuth.TokenFile), "from-the-data-directory\n");
        await using var admin = FakeAdminApi.Start(Cluster, AdminJson.Http.ClusterJson);

        var fromData = await CliTests.RunAsync("cluster", "--admin", admin.Address.ToString(), "--data", _data);
        var given = await CliTests.RunAsync("cluster", "--admin", admin.Address.ToString(), "--data", _data, "--token", "given-on-the-command-line");

        Assert.True(fromData.ExitCode == 0, fromData.StdErr);
        Assert.True(given.ExitCode == 0, given.StdErr);
        var heads = admin.Heads.ToArray();
        Assert.Contains("\r\nAuthorization: Bearer from-the-data-directory\r\n", heads[0]);
        Assert.Contains("\r\nAuthorization: Bearer given-on-the-command-line\r\n", heads[1]);
    }

    [Fact]
    public async Task Without_a_token_the_command_exits_4_before_asking()
    {
        await using var admin = FakeAdminApi.Start(Cluster, AdminJson.Http.ClusterJson);

        var (exit, stdout, stderr) = await CliTests.RunAsync("window", "--admin", admin.Address.ToString(), "--data", _data);

        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Empty(stdout);
        Assert.StartsWith("kms: no admin token:", stderr);
        Assert.Contains(Path.Combine(_data, AdminAuth.TokenFile), stderr);
        Assert.Empty(admin.Requests);
    }

    [Fact]
    public async Task A_refused_token_exits_2_and_names_where_the_token_came_from()
    {
        await using var admin = FakeAdminApi.Error(401, "Unauthorized", "this admin API needs a token");

        var status = await CliTests.RunAsync("keys", "status", "--admin", admin.Address.ToString(), "--token", "wrong-token-0123456");
        var reactivate = await CliTests.RunAsync("keys", "reactivate", "k1", "--admin", admin.Address.ToString(), "--token", "wrong-token-0123456");

        Assert.Equal(ExitCodes.Refused, status.ExitCode);
        Assert.Contains("401 the node refused the admin token from --token", status.StdErr);
        Assert.Equal(ExitCodes.Refused, reactivate.ExitCode);
        Assert.Contains("401 the node refused the admin token from --token", reactivate.StdErr);
    }

    public void Dispose()
    {
        if (Directory.Exists(_data)) Directory.Delete(_data, recursive: true);
    }
}
