using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>A wrong setting stops kms-node at start-up with one line that says why.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("--activation-interval", "10", "outside 15 minutes to 30 days")]
    [InlineData("--renewal-interval", "31d", "outside 15 minutes to 30 days")]
    [InlineData("--renewal-interval", "soon", "is not a duration")]
    [InlineData("--listen", "example.org:1688", "is not an IP address")]
    [InlineData("--listen", "127.0.0.1:70000", "is not a number from 0 to 65535")]
    [InlineData("--admin", "::1:8688", "brackets")]
    [InlineData("--idle-timeout", "0s", "between 1s and 1d")]
    [InlineData("--log-level", "chatty", "is not one of")]
    [InlineData("--seed", "127.0.0.1:4053", "joining a cluster needs --db")]
    [InlineData("--seed", "kms-a.example:0", "fixed port")]
    [InlineData("--split-brain", "lease-majority", "it needs --db")]
    [InlineData("--split-brain", "coin-toss", "is not one of")]
    [InlineData("--db", "Host=;Database=kms", "names no Host")]
    [InlineData("--db", "not a connection string", "not a PostgreSQL connection string")]
    [InlineData("--cluster-port", "99999", "is not a port")]
    [InlineData("--host-os", "Windows Server 2091", "is not a host OS of the catalogue (closest: Windows Server 2019")]
    [InlineData("--host-key", "/nonexistent/windows.hostkey.json", "cannot read the host key")]
    [InlineData("--authority-key", "/nonexistent/authority.pub", "cannot read the authority key")]
    [InlineData("--catalog", "/nonexistent/catalog.json", "cannot read the catalogue")]
    public async Task A_wrong_flag_exits_2_with_a_one_line_reason(string flag, string value, string reason)
    {
        using var data = new TempDirectory();
        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null, "--data", data.Path, flag, value);
        Assert.Equal(2, exit);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kms-node: " + flag, line);
        Assert.Contains(reason, line);
    }

    [Fact]
    public async Task A_replacement_catalogue_with_a_bad_field_stops_start_up_with_its_path_and_the_problem()
    {
        using var data = new TempDirectory();
        var catalogue = System.Text.Json.Nodes.JsonNode.Parse(new StreamReader(
            typeof(KmsCluster.Protocol.Catalog.ProductCatalog).Assembly.GetManifestResourceStream("KmsCluster.Protocol.default-catalog.json")!).ReadToEnd())!;
        catalogue["keyGroups"]![1]!["hostableOn"]![2] = "Windows Server 2091";
        var path = Path.Combine(data.Path, "catalog.json");
        File.WriteAllText(path, catalogue.ToJsonString());

        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null, "--data", data.Path, "--catalog", path);

        Assert.Equal(2, exit);
        Assert.Equal($"kms-node: --catalog: {path}: keyGroups[1] (\"Office LTSC 2024 volume licence\").hostableOn[2]: " +
                     "unknown host OS \"Windows Server 2091\" (closest: Windows Server 2019, Windows Server 2025, Windows Server 2022)",
            stderr.Trim());
    }

    [Fact]
    public async Task A_file_that_is_not_a_host_key_stops_start_up()
    {
        using var data = new TempDirectory();
        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null, "--data", data.Path, "--host-key", DemoLicence.AuthorityPublicKey);
        Assert.Equal(2, exit);
        Assert.StartsWith($"kms-node: --host-key: {DemoLicence.AuthorityPublicKey}: not a host key document", stderr.Trim());
    }

    [Fact]
    public async Task A_wrong_environment_variable_is_reported_under_its_flag()
    {
        using var data = new TempDirectory();
        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(
            new Dictionary<string, string> { ["KMS_ACTIVATION_INTERVAL"] = "5m" }, "--data", data.Path);
        Assert.Equal(2, exit);
        Assert.Contains("--activation-interval: 5 minutes is outside", stderr);
    }

    [Fact]
    public async Task A_database_with_wrong_credentials_stops_start_up_at_once_with_its_reason()
    {
        await using var database = await PostgresServer.StartAsync();
        using var data = new TempDirectory();
        // The test server trusts every local connection, so a missing database is the refusal to provoke.
        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null, "--data", data.Path,
            "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--db", database.ConnectionString("no_such_database"));
        Assert.Equal(2, exit);
        Assert.Contains("--db:", stderr);
        Assert.Contains("no_such_database", stderr);
    }

    [Fact]
    public async Task An_unknown_flag_exits_2()
    {
        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null, "--listne", "127.0.0.1:0");
        Assert.Equal(2, exit);
        Assert.StartsWith("kms-node:", stderr.Trim());
    }

    [Fact]
    public async Task A_second_node_on_the_same_data_directory_is_refused()
    {
        using var data = new TempDirectory();
        await using var first = await NodeProcess.StartAsync(data.Path);
        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null,
            "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--data", data.Path);
        Assert.Equal(2, exit);
        Assert.Contains("in use by another kms-node", stderr);
        Assert.False(first.HasExited);
    }

    [Fact]
    public async Task A_port_that_is_taken_stops_start_up_with_a_clear_message()
    {
        using var data = new TempDirectory();
        using var other = new TempDirectory();
        await using var first = await NodeProcess.StartAsync(data.Path);
        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null,
            "--listen", first.ActivationEndpoint, "--admin", "127.0.0.1:0", "--data", other.Path);
        Assert.Equal(2, exit);
        Assert.Contains("cannot listen", stderr);
    }
}
