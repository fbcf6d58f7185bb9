using KmsCluster.Domain;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Licensing;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>What a node activates under which keys, decided in process from real key files and real signatures;
/// the ledger's answers are fed in as the node's ledger client would.</summary>
public sealed class HostLicenceTests : IDisposable
{
    private const string WindowsGroup = "Windows Server 2025 volume licence";
    private const string OfficeGroup = "Office LTSC 2024 volume licence";

    private readonly TempDirectory _directory = new();
    private readonly LicensingAuthority _authority;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));

    public HostLicenceTests()
    {
        _authority = LicensingAuthority.Create(Path.Combine(_directory.Path, "authority"));
    }

    private static Product Product(string slug) => ProductCatalog.Default.FindProduct(slug)!;

    private string Key(string id, string group, DateTimeOffset? expires = null)
    {
        var path = Path.Combine(_directory.Path, id + ".json");
        File.WriteAllText(path, _authority.Issue(id, group, "Contoso", _clock.GetUtcNow().AddDays(-1), expires).ToJson());
        return path;
    }

    private HostLicence Licence(string hostOs, params string[] keys)
    {
        var values = new Dictionary<string, IReadOnlyList<string>>
        {
            ["host-key"] = keys,
            ["authority-key"] = [Path.Combine(_directory.Path, "authority", "authority.pub")],
            ["host-os"] = [hostOs],
        };
        return new HostLicence(NodeOptionsReader.Read(values), _clock, NullLogger<HostLicence>.Instance);
    }

    private static LicenceRefusal Refusal(HostLicence licence, string slug)
    {
        Assert.False(licence.Allows(Product(slug), out var refusal), $"{slug} should be refused");
        return refusal;
    }

    [Fact]
    public void Without_a_key_every_product_is_refused_with_no_host_key()
    {
        using var licence = Licence("Windows Server 2025");

        Assert.Equal("unlicensed", licence.Status);
        Assert.True(licence.IsSettled);
        Assert.All(ProductCatalog.Default.Products, p =>
        {
            Assert.False(licence.Allows(p, out var refusal));
            Assert.Equal(ErrorCode.NoHostKey, refusal.Code);
            Assert.Contains("this host has no host key", refusal.Message);
        });
    }

    [Fact]
    public void A_valid_key_waits_for_the_ledger_then_activates_its_group_and_nothing_else()
    {
        using var licence = Licence("Windows Server 2025", Key("k-win", WindowsGroup));

        Assert.Equal("pending", licence.Status);
        Assert.False(licence.IsSettled);
        var waiting = Refusal(licence, "windows-11-pro");
        Assert.Equal(ErrorCode.WindowUnavailable, waiting.Code); // retryable: the ledger answers within moments
        Assert.Contains("k-win", waiting.Message);

        licence.LedgerAnswered("k-win", HostActivationOutcome.Activated);

        Assert.Equal("licensed", licence.Status);
        Assert.True(licence.IsSettled);
        Assert.True(licence.Allows(Product("windows-11-pro"), out _));
        Assert.True(licence.Allows(Product("windows-server-2008-datacenter"), out _));
        var office = Refusal(licence, "office-ltsc-2024-standard");
        Assert.Equal(ErrorCode.ProductNotAllowed, office.Code);
        Assert.Equal("product not allowed on this host: office-ltsc-2024-standard is outside the key groups of this host " +
                     $"({WindowsGroup}); a key of {OfficeGroup} would", office.Message);
        Assert.Equal(ProductCatalog.Default.Products.Count(p => p.Kind != ProductKind.Office), licence.Activates.Count);
    }

    [Fact]
    public void A_key_the_ledger_refuses_activates_nothing_and_says_why()
    {
        using var licence = Licence("Windows Server 2025", Key("k-win", WindowsGroup), Key("k-office", OfficeGroup));
        licence.LedgerAnswered("k-office", HostActivationOutcome.AlreadyActive);
        licence.LedgerAnswered("k-win", HostActivationOutcome.HostLimitReached);

        var refusal = Refusal(licence, "windows-server-2022-standard");

        Assert.Equal(ErrorCode.NoHostKey, refusal.Code);
        Assert.Contains("host key k-win (Windows Server 2025 volume licence), which covers windows-server-2022-standard, is not valid", refusal.Message);
        Assert.Contains("activated its limit of 6 hosts", refusal.Message);
        Assert.True(licence.Allows(Product("office-2016-standard"), out _));
        Assert.Equal("licensed", licence.Status);
        Assert.Single(licence.Problems);
    }

    [Fact]
    public void A_refused_explicit_re_activation_leaves_an_active_key_active()
    {
        using var licence = Licence("Windows Server 2025", Key("k-win", WindowsGroup));
        licence.LedgerAnswered("k-win", HostActivationOutcome.Activated);

        licence.LedgerAnswered("k-win", HostActivationOutcome.ReactivationLimitReached);

        Assert.True(licence.Allows(Product("windows-11-pro"), out _));
    }

    [Fact]
    public void A_re_activation_refused_at_start_up_leaves_the_key_refused()
    {
        using var licence = Licence("Windows Server 2025", Key("k-win", WindowsGroup));

        licence.LedgerAnswered("k-win", HostActivationOutcome.ReactivationLimitReached);

        Assert.Equal("unlicensed", licence.Status);
        Assert.Contains("re-activated 9 times", Refusal(licence, "windows-11-pro").Message);
    }

    [Fact]
    public void A_key_that_expires_while_the_node_runs_stops_counting_then()
    {
        using var licence = Licence("Windows Server 2025", Key("k-win", WindowsGroup, expires: _clock.GetUtcNow().AddHours(1)));
        licence.LedgerAnswered("k-win", HostActivationOutcome.Activated);
        Assert.True(licence.Allows(Product("windows-11-pro"), out _));

        _clock.Advance(TimeSpan.FromHours(1));

        var refusal = Refusal(licence, "windows-11-pro");
        Assert.Equal(ErrorCode.NoHostKey, refusal.Code);
        Assert.Contains("expired at 2025-06-01T13:00:00Z", refusal.Message);
        Assert.Equal("expired", HostKeyCheck.Name(licence.Keys.Single().Problem));
    }

    [Fact]
    public void Keys_that_do_not_check_out_are_refused_at_start_with_their_reason()
    {
        var forged = Key("k-forged", WindowsGroup);
        File.WriteAllText(forged, File.ReadAllText(forged).Replace("Contoso", "Mallory"));
        using var licence = Licence("Windows Server 2025", forged, Key("k-old", OfficeGroup, expires: _clock.GetUtcNow().AddSeconds(-1)),
            Key("k-unknown", "Visio 2030 volume licence"));

        Assert.Equal("unlicensed", licence.Status);
        Assert.True(licence.IsSettled); // nothing to ask the ledger
        Assert.Equal(["bad-signature", "expired", "unknown-group"], licence.Keys.Select(k => HostKeyCheck.Name(k.Problem)));
        var refusal = Refusal(licence, "windows-11-pro");
        Assert.Equal(ErrorCode.NoHostKey, refusal.Code);
        Assert.Contains("k-forged (Windows Server 2025 volume licence): bad signature", refusal.Message);
        Assert.Contains("k-old (Office LTSC 2024 volume licence): expired at", refusal.Message);
        Assert.Contains("k-unknown (Visio 2030 volume licence): unknown group", refusal.Message);
    }

    [Fact]
    public void A_group_the_host_os_cannot_hold_is_refused()
    {
        using var licence = Licence("Windows 11", Key("k-win", WindowsGroup), Key("k-office", OfficeGroup));

        Assert.Equal(HostKeyProblem.NotHostable, licence.Keys[0].Problem);
        licence.LedgerAnswered("k-office", HostActivationOutcome.Activated);

        Assert.True(licence.Allows(Product("office-ltsc-2021-professional-plus"), out _));
        var refusal = Refusal(licence, "windows-11-enterprise");
        Assert.Equal(ErrorCode.NoHostKey, refusal.Code);
        Assert.Contains("cannot be hosted on Windows 11", refusal.Message);
    }

    [Fact]
    public void A_host_on_a_client_os_activates_no_server_edition_even_when_its_group_does()
    {
        // An operator's catalogue with a group that a client OS may hold and that names server editions too.
        var catalogue = System.Text.Json.Nodes.JsonNode.Parse(
            new StreamReader(typeof(ProductCatalog).Assembly.GetManifestResourceStream("KmsCluster.Protocol.default-catalog.json")!).ReadToEnd())!;
        catalogue["keyGroups"]![0]!["hostableOn"]!.AsArray().Add("Windows 11");
        var path = Path.Combine(_directory.Path, "catalog.json");
        File.WriteAllText(path, catalogue.ToJsonString());
        var values = new Dictionary<string, IReadOnlyList<string>>
        {
            ["host-key"] = [Key("k-win", WindowsGroup)],
            ["authority-key"] = [Path.Combine(_directory.Path, "authority", "authority.pub")],
            ["host-os"] = ["Windows 11"],
            ["catalog"] = [path],
        };
        using var licence = new HostLicence(NodeOptionsReader.Read(values), _clock, NullLogger<HostLicence>.Instance);
        licence.LedgerAnswered("k-win", HostActivationOutcome.Activated);

        Assert.True(licence.Allows(Product("windows-10-pro"), out _));
        var refusal = Refusal(licence, "windows-server-2025-standard");
        Assert.Equal(ErrorCode.ProductNotAllowed, refusal.Code);
        Assert.Contains("a host on a client OS (Windows 11) activates client editions only", refusal.Message);
    }

    public void Dispose()
    {
        _authority.Dispose();
        _directory.Dispose();
    }
}
