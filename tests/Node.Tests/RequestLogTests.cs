using System.Text.Json;
using Json.Schema;
using KmsCluster.Client.Connection;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.RequestLogging;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>--request-log on a real node: one JSON line per answer and per refusal, to a file (rotated by size) or
/// to standard output, each line valid against docs/request-log.schema.json.</summary>
public sealed class RequestLogTests
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);

    private static readonly Lazy<JsonSchema> Schema = new(() => JsonSchema.FromFile(Path.Combine(RepositoryRoot(), "docs", "request-log.schema.json")));

    [Fact]
    public async Task An_activated_answer_and_a_refusal_are_logged_with_the_fields_of_the_host_event_log()
    {
        using var data = new TempDirectory();
        using var logs = new TempDirectory();
        var file = Path.Combine(logs.Path, "requests.log");
        await using var node = await NodeProcess.StartAsync(data.Path, "--request-log", file);
        await using var connection = await node.OpenConnectionAsync();
        var office = Enumerable.Range(0, 5).Select(i => Requests.For("office-ltsc-2024-professional-plus", workstation: $"desk{i}")).ToArray();
        foreach (var request in office)
        {
            var result = await connection.ActivateAsync(request, Answer);
            Assert.False(result.IsError, result.ToString());
        }
        var skewed = Requests.For("office-ltsc-2024-professional-plus", clientTime: DateTimeOffset.UtcNow.AddHours(-6));
        Assert.True((await connection.ActivateAsync(skewed, Answer)).IsError);

        var lines = await LinesAsync(file, 6);
        Assert.Equal(6, lines.Count);
        foreach (var line in lines) AssertValid(line);

        var activated = lines[4].RootElement;
        Assert.Equal(office[4].ClientMachineId, activated.GetProperty("cmid").GetGuid());
        Assert.Equal("desk4", activated.GetProperty("workstation").GetString());
        Assert.Equal("office-ltsc-2024-professional-plus", activated.GetProperty("product").GetString());
        Assert.Equal(office[4].ProductId, activated.GetProperty("productId").GetGuid());
        Assert.Equal("office", activated.GetProperty("application").GetString());
        Assert.Equal("initial-grace", activated.GetProperty("licenseState").GetString());
        Assert.Equal(43200, activated.GetProperty("minutesLeft").GetInt32());
        Assert.False(activated.GetProperty("vm").GetBoolean());
        Assert.Equal(5, activated.GetProperty("count").GetInt32());
        Assert.Equal(5, activated.GetProperty("threshold").GetInt32());
        Assert.True(activated.GetProperty("activated").GetBoolean());
        Assert.Equal(activated.GetProperty("time").GetDateTimeOffset().AddDays(180), activated.GetProperty("validUntil").GetDateTimeOffset());
        Assert.Equal(node.Name, activated.GetProperty("node").GetString());
        Assert.Equal(2, activated.GetProperty("protocolVersion").GetInt32());
        Assert.StartsWith("127.0.0.1:", activated.GetProperty("remote").GetString());
        Assert.Equal(JsonValueKind.Null, activated.GetProperty("error").ValueKind);

        var notYet = lines[0].RootElement;
        Assert.Equal(1, notYet.GetProperty("count").GetInt32());
        Assert.False(notYet.GetProperty("activated").GetBoolean());
        Assert.Equal(JsonValueKind.Null, notYet.GetProperty("validUntil").ValueKind);

        var refused = lines[5].RootElement;
        Assert.Equal(skewed.ClientMachineId, refused.GetProperty("cmid").GetGuid());
        Assert.Equal("clock-skew", refused.GetProperty("error").GetString());
        Assert.True(refused.GetProperty("errorCode").GetInt32() > 0);
        Assert.Contains("at most 4 hours", refused.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, refused.GetProperty("count").ValueKind);
        Assert.Equal(JsonValueKind.Null, refused.GetProperty("activated").ValueKind);

        using var admin = new AdminClient(node);
        var stats = (await admin.StatsAsync()).RequestLog;
        Assert.NotNull(stats);
        Assert.Equal(file, stats.Destination);
        Assert.Equal(6, stats.Written);
        Assert.Equal(0, stats.Dropped);
    }

    [Fact]
    public async Task With_stdout_the_lines_go_to_the_process_standard_output()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--request-log", "stdout");
        await using var connection = await node.OpenConnectionAsync();
        var request = Requests.For("windows-11-pro");
        Assert.False((await connection.ActivateAsync(request, Answer)).IsError);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        string? line = null;
        while (line is null && DateTime.UtcNow < deadline)
        {
            line = node.StdOutLines.FirstOrDefault(l => l.StartsWith('{') && l.Contains(request.ClientMachineId.ToString()));
            if (line is null) await Task.Delay(100);
        }
        Assert.NotNull(line);
        using var json = JsonDocument.Parse(line);
        AssertValid(json);
        Assert.Equal("windows-11-pro", json.RootElement.GetProperty("product").GetString());
        Assert.Equal(1, json.RootElement.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task The_file_rotates_at_the_size_limit_keeps_the_configured_files_and_the_newest_lines()
    {
        using var data = new TempDirectory();
        using var logs = new TempDirectory();
        var file = Path.Combine(logs.Path, "requests.log");
        const int maxSize = 2048;
        await using var node = await NodeProcess.StartAsync(data.Path, "--request-log", file, "--request-log-max-size", "2KB",
            "--request-log-files", "3");
        await using var connection = await node.OpenConnectionAsync();
        var requests = Enumerable.Range(0, 16).Select(_ => Requests.For("windows-11-enterprise")).ToArray();
        foreach (var request in requests)
        {
            Assert.False((await connection.ActivateAsync(request, Answer)).IsError);
        }

        using var admin = new AdminClient(node);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await admin.StatsAsync()).RequestLog!.Written < requests.Length && DateTime.UtcNow < deadline) await Task.Delay(100);
        var stats = (await admin.StatsAsync()).RequestLog!;
        Assert.Equal(requests.Length, stats.Written);
        Assert.True(stats.Rotations >= 3, $"{stats.Rotations} rotations");

        Assert.Equal(new[] { "requests.log", "requests.log.1", "requests.log.2" },
            Directory.GetFiles(logs.Path).Select(f => Path.GetFileName(f)).Order().ToArray());
        var kept = new List<Guid>();
        foreach (var name in new[] { file + ".2", file + ".1", file })
        {
            var text = await File.ReadAllLinesAsync(name);
            Assert.NotEmpty(text);
            Assert.True(new FileInfo(name).Length <= maxSize || text.Length == 1, $"{name}: {new FileInfo(name).Length} bytes");
            kept.AddRange(text.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("cmid").GetGuid()));
        }
        // Whole lines only, newest last: the kept files hold the latest requests in order; the older ones are gone.
        Assert.Equal(requests.TakeLast(kept.Count).Select(r => r.ClientMachineId), kept);
        Assert.True(kept.Count < requests.Length);
    }

    [Theory]
    [InlineData("--request-log-max-size", "0", "--request-log-max-size: must be at least 1KB")]
    [InlineData("--request-log-max-size", "lots", "is not a size")]
    [InlineData("--request-log-files", "0", "--request-log-files: must be a whole number from 1 to 1000")]
    public async Task A_bad_size_or_count_stops_start_up_with_exit_code_2(string flag, string value, string reason)
    {
        using var data = new TempDirectory();
        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null, "--data", data.Path, "--request-log", "stdout", flag, value);
        Assert.Equal(2, exit);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kms-node: " + flag, line);
        Assert.Contains(reason, line);
    }

    [Fact]
    public async Task A_file_that_cannot_be_written_stops_start_up_with_exit_code_2()
    {
        using var data = new TempDirectory();
        var missing = Path.Combine(data.Path, "no-such-directory", "requests.log");
        var (exit, _, stderr) = await NodeProcess.RunToExitAsync(null, "--data", data.Path, "--request-log", missing);
        Assert.Equal(2, exit);
        Assert.Equal($"kms-node: --request-log: the directory {Path.GetDirectoryName(missing)} does not exist", stderr.Trim());

        // A directory where the file should be: not writable as a file, whoever runs the test (root included).
        var (dirExit, _, dirErr) = await NodeProcess.RunToExitAsync(null, "--data", data.Path, "--request-log", data.Path);
        Assert.Equal(2, dirExit);
        Assert.Contains("is a directory", dirErr);
    }

    [Fact]
    public void The_settings_come_from_KMS_variables_like_every_flag_and_are_off_by_default()
    {
        var (root, flags) = NodeCommandLine.Create();
        var none = NodeOptionsReader.Read(NodeConfiguration.Load(null, new Dictionary<string, string>(), root.Parse([]), flags));
        Assert.Null(none.RequestLog);

        var environment = new Dictionary<string, string> { ["KMS_REQUEST_LOG"] = "stdout", ["KMS_REQUEST_LOG_MAX_SIZE"] = "64KB" };
        var fromEnvironment = NodeOptionsReader.Read(NodeConfiguration.Load(null, environment, root.Parse([]), flags));
        Assert.Equal(new RequestLogSettings(null, 64 * 1024, 5), fromEnvironment.RequestLog);

        var flagWins = NodeOptionsReader.Read(NodeConfiguration.Load(null, environment,
            root.Parse(["--request-log-max-size", "100MB", "--request-log-files", "2"]), flags));
        Assert.Equal(new RequestLogSettings(null, 100L << 20, 2), flagWins.RequestLog);
    }

    [Fact]
    public void A_full_queue_drops_and_counts_the_lines_rather_than_wait()
    {
        var options = NodeOptionsReader.Read(new Dictionary<string, IReadOnlyList<string>> { ["request-log"] = ["stdout"] });
        var log = new RequestLog(options);
        Assert.True(log.Enabled);
        // No writer drains this queue: once it holds Capacity lines, every further Add returns at once, counted.
        var entry = new RequestLogEntry { Time = DateTimeOffset.UtcNow, ProtocolVersion = 2 };
        for (var i = 0; i < RequestLog.Capacity + 10; i++) log.Add(entry);
        Assert.Equal(10, log.Dropped);

        var off = new RequestLog(NodeOptionsReader.Read(new Dictionary<string, IReadOnlyList<string>>()));
        Assert.False(off.Enabled);
    }

    [Fact]
    public void The_schema_names_exactly_the_fields_a_line_has()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "request-log.schema.json")));
        Assert.Equal(RequestLogEntry.Fields, schema.RootElement.GetProperty("required").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(RequestLogEntry.Fields.Order(), schema.RootElement.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
        // README's "Request log" section names every field.
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md")).ReplaceLineEndings("\n");
        var start = readme.IndexOf("\n### Request log\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no \"### Request log\" section");
        var end = readme.IndexOf("\n#", start + 1, StringComparison.Ordinal);
        var section = readme[start..end];
        Assert.All(RequestLogEntry.Fields, field => Assert.Contains($"`{field}`", section));
    }

    private static void AssertValid(JsonDocument line)
    {
        var result = Schema.Value.Evaluate(line.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, line.RootElement.GetRawText() + "\n" + string.Join("\n",
            (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));
    }

    /// <summary>The file's lines once it has <paramref name="count"/> (the writer is behind the answers by a moment).</summary>
    private static async Task<List<JsonDocument>> LinesAsync(string file, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string[] lines = [];
        while (DateTime.UtcNow < deadline)
        {
            lines = File.Exists(file) ? await File.ReadAllLinesAsync(file) : [];
            if (lines.Length >= count) break;
            await Task.Delay(100);
        }
        return lines.Select(line => JsonDocument.Parse(line)).ToList();
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "KmsCluster.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new DirectoryNotFoundException("no KmsCluster.sln above " + AppContext.BaseDirectory);
    }
}
