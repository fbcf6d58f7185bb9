using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Tests.Support;

namespace KmsCluster.Protocol.Tests;

/// <summary>
/// Holds README.md's "Admin API" section to the records of KmsCluster.Protocol.Admin as <see cref="AdminJson"/>
/// writes them: every JSON name a document has is named in its endpoint's paragraph, and every name in a JSON
/// example there is real. Plus the contract both ends rely on: nulls written, reading gives the document back,
/// escaping as ASP.NET Core's.
/// </summary>
public sealed partial class AdminApiDocumentTests
{
    private static readonly Lazy<string> Section = new(() => ReadSection(ReadmePath()));

    /// <summary>Each endpoint's paragraph (how it starts), a document it answers, and names whose content is
    /// documented elsewhere (a nested document) or is data (dictionary keys).</summary>
    private static readonly (string Paragraph, object Document, JsonTypeInfo Type, string[] NotInside)[] Samples =
    [
        ("`GET /healthz`", AdminSamples.Health, AdminJson.Http.HealthJson, ["dns"]),
        ("`GET /api/v1/host`", AdminSamples.HostDocument, AdminJson.Http.HostJson, ["dns"]),
        ("`GET /api/v1/host/dns`", AdminSamples.Dns, AdminJson.Http.DnsStatusJson, []),
        ("`GET /api/v1/host-keys`", AdminSamples.HostKeys, AdminJson.Http.IReadOnlyListHostKeyLedgerJson, ["key"]),
        ("`POST /api/v1/host-keys/{keyId}/reactivate`", AdminSamples.Reactivation, AdminJson.Http.ReactivationJson, []),
        ("`GET /api/v1/windows`", AdminSamples.Windows, AdminJson.Http.WindowsJson, []),
        ("`GET /api/v1/cluster`", AdminSamples.Cluster, AdminJson.Http.ClusterJson, []),
        ("`GET /api/v1/stats`", AdminSamples.Stats, AdminJson.Http.StatsJson, ["byLicenseState", "byError"]),
        ("`GET /api/v1/node`", AdminSamples.NodeDocument, AdminJson.Http.NodeJson, []),
        ("`GET /api/v1/clients`", AdminSamples.Clients, AdminJson.Http.ClientsPageJson, []),
        ("`GET /api/v1/clients/{cmid}`", AdminSamples.Machine, AdminJson.Http.ClientMachineJson, ["rows"]),
        ("Errors", AdminSamples.Error, AdminJson.Http.ErrorJson, []),
    ];

    public static TheoryData<string> Paragraphs => new(Samples.Select(s => s.Paragraph));

    [Theory]
    [MemberData(nameof(Paragraphs))]
    public void Every_name_of_a_document_is_in_its_paragraph(string paragraph)
    {
        var sample = Samples.Single(s => s.Paragraph == paragraph);
        var names = JsonNames(JsonNode.Parse(JsonSerializer.Serialize(sample.Document, sample.Type)), sample.NotInside).ToHashSet();
        Assert.Empty(names.Except(DocumentedNames(Paragraph(paragraph))).Order());
        // A JSON example in the paragraph names only real fields.
        Assert.Empty(ExampleNames(Paragraph(paragraph)).Except(names).Order());
    }

    [Theory]
    [MemberData(nameof(Paragraphs))]
    public void Reading_what_the_node_writes_gives_the_same_document(string paragraph)
    {
        var sample = Samples.Single(s => s.Paragraph == paragraph);
        var json = JsonSerializer.Serialize(sample.Document, sample.Type);
        Assert.Equal(json, JsonSerializer.Serialize(JsonSerializer.Deserialize(json, sample.Type), sample.Type));
    }

    [Fact]
    public void A_key_in_host_keys_is_documented_with_the_host()
    {
        var names = JsonNames(JsonNode.Parse(Write(AdminSamples.Key, AdminJson.Http.KeyJson)), []);
        Assert.Empty(names.Except(DocumentedNames(Paragraph("`GET /api/v1/host`"))).Order());
    }

    [Fact]
    public void The_certificate_installed_answer_is_documented_field_by_field()
    {
        var sample = new HostCertificateJson("k", Guid.Empty, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "f", "active", "r");
        var names = JsonNames(JsonNode.Parse(Write(sample, AdminJson.Http.HostCertificateJson)), []);
        Assert.Equal(names.Order(), ExampleNames(Paragraph("`PUT /api/v1/host-keys/{keyId}/certificate`")).Order());
    }

    [Fact]
    public void The_section_names_the_records_that_exist()
    {
        var named = RecordName().Matches(Section.Value).Select(m => m.Groups[1].Value).ToHashSet();
        var records = typeof(AdminJson).Assembly.GetTypes().Where(t => t.Namespace == typeof(AdminJson).Namespace).Select(t => t.Name);
        Assert.Contains("HealthJson", named);
        Assert.Empty(named.Except(records).Order());
    }

    [Fact]
    public void Nulls_are_written_except_a_health_without_dns()
    {
        var ledger = Write([new HostKeyLedgerJson(AdminSamples.Key, null, null, "no ledger")], AdminJson.Http.IReadOnlyListHostKeyLedgerJson);
        Assert.Contains("\"hosts\":null,\"owner\":null,", ledger);
        Assert.Contains("\"expiresAt\":null", Write(AdminSamples.Key with { ExpiresAt = null }, AdminJson.Http.KeyJson));
        Assert.DoesNotContain("dns", Write(AdminSamples.Health with { Dns = null }, AdminJson.Http.HealthJson));
    }

    [Fact]
    public void Quotes_plus_and_non_ascii_are_written_as_they_are()
    {
        Assert.Equal("""{"error":"unknown application \"kms+é<>\""}""",
            Write(new ErrorJson("unknown application \"kms+é<>\""), AdminJson.Http.ErrorJson));
        Assert.Equal("""{"keyId":"k","outcome":"reactivated","reactivations":1,"maxReactivations":9,"hosts":1,"maxHosts":6}""",
            Write(new ReactivationJson("k", "reactivated", 1, 9, 1, 6), AdminJson.Http.ReactivationJson));
    }

    private static string Write<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.Serialize(value, type);

    private static IEnumerable<string> JsonNames(JsonNode? node, string[] notInside) => node switch
    {
        JsonObject o => o.SelectMany(p => notInside.Contains(p.Key) ? [p.Key] : JsonNames(p.Value, notInside).Prepend(p.Key)),
        JsonArray a => a.SelectMany(e => JsonNames(e, notInside)),
        _ => [],
    };

    /// <summary>Names in backticks (<c>`count`</c>) and in a JSON example's quotes.</summary>
    private static HashSet<string> DocumentedNames(string paragraph) =>
        Code().Matches(paragraph).SelectMany(m => Identifier().IsMatch(m.Groups[1].Value)
                ? [m.Groups[1].Value]
                : QuotedName().Matches(m.Groups[1].Value).Select(q => q.Groups[1].Value))
            .ToHashSet();

    /// <summary>Names of JSON examples: a quoted word after <c>{</c> or <c>,</c> (not a value after <c>:</c>).</summary>
    private static IEnumerable<string> ExampleNames(string paragraph) =>
        Code().Matches(paragraph).Where(m => m.Groups[1].Value.StartsWith('{'))
            .SelectMany(m => ExampleName().Matches(m.Groups[1].Value).Select(q => q.Groups[1].Value));

    private static string Paragraph(string start)
    {
        var paragraphs = Section.Value.Split("\n- ").Where(p => p.StartsWith(start, StringComparison.Ordinal)).ToList();
        Assert.True(paragraphs.Count == 1, $"README.md's Admin API section has {paragraphs.Count} items starting with {start}");
        return paragraphs[0];
    }

    private static string ReadSection(string readme)
    {
        var text = File.ReadAllText(readme).ReplaceLineEndings("\n");
        var start = text.IndexOf("\n## Admin API\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no \"## Admin API\" section");
        var end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return text[start..(end < 0 ? text.Length : end)];
    }

    private static string ReadmePath([CallerFilePath] string sourceFile = "")
    {
        // As ProtocolDocumentTests: the build output, then this source file, then the working directory.
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile), Directory.GetCurrentDirectory() })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "KmsCluster.sln"))) return Path.Combine(dir.FullName, "README.md");
            }
        }
        throw new InvalidOperationException($"no KmsCluster.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();

    [GeneratedRegex("^[a-z][A-Za-z]*$")]
    private static partial Regex Identifier();

    [GeneratedRegex("\"([A-Za-z]+)\"")]
    private static partial Regex QuotedName();

    [GeneratedRegex("[{,]\"([A-Za-z]+)\"")]
    private static partial Regex ExampleName();

    [GeneratedRegex(@"`([A-Z][A-Za-z]*Json)`")]
    private static partial Regex RecordName();
}
