using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Protocol.Tests;

/// <summary>The catalogue's licensing tables: the default restates the KMS model's; a bad file names the bad field.</summary>
public sealed class CatalogLicensingTests
{
    private static readonly ProductCatalog Default = ProductCatalog.Default;

    [Fact]
    public void The_default_host_operating_systems_are_the_servers_and_clients_of_the_model_tables()
    {
        Assert.Equal(
            ["Windows Server 2025", "Windows Server 2022", "Windows Server 2019", "Windows Server 2016", "Windows Server 2012 R2",
             "Windows Server 2012", "Windows Server 2008 R2"],
            Default.HostOperatingSystems.Where(os => os.Kind == HostOsKind.Server).Select(os => os.Name));
        Assert.Equal(["Windows 11", "Windows 10", "Windows 8.1", "Windows 7"],
            Default.HostOperatingSystems.Where(os => os.Kind == HostOsKind.Client).Select(os => os.Name));
    }

    [Fact]
    public void Every_default_product_is_activated_by_some_group_on_the_default_host_os()
    {
        var server2025 = Default.FindHostOs("windows server 2025")!;
        var covered = Default.KeyGroups.SelectMany(g => g.ActivatesOn(server2025)).ToHashSet();
        Assert.All(Default.Products, p => Assert.Contains(p, covered));
    }

    [Fact]
    public void On_a_client_os_a_group_activates_no_server_edition()
    {
        var json = Catalogue("""
            "hostOperatingSystems": [ { "name": "Srv", "kind": "server" }, { "name": "Desk", "kind": "client" } ],
            "keyGroups": [ { "name": "All", "hostableOn": [ "Srv", "Desk" ], "activates": { "families": [ "Client", "Server" ] } } ]
            """);
        var catalog = ProductCatalog.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)), "test");
        var group = catalog.FindKeyGroup("all")!;

        Assert.Equal(["client", "server"], group.ActivatesOn(catalog.FindHostOs("Srv")!).Select(p => p.Slug));
        Assert.Equal(["client"], group.ActivatesOn(catalog.FindHostOs("Desk")!).Select(p => p.Slug));
    }

    [Theory]
    [InlineData("Windows Server 2016", "Windows Server 2019", "2018-12-03")] // two rows cover it: the earlier
    [InlineData("Windows Server 2016", "Windows Server 2022", "2021-06-08")]
    [InlineData("Windows Server 2012 R2", "Windows 10", "2016-07")]
    [InlineData("Windows Server 2012 R2", "Windows Server 2019", "2018-11-27")]
    public void Where_two_rows_cover_a_client_the_earlier_update_is_the_minimum(string host, string client, string released)
    {
        Assert.Equal(released, Default.MinimumUpdateFor(Default.FindHostOs(host)!, client)?.Released);
    }

    [Fact]
    public void A_client_newer_hosts_need_nothing_for_has_no_minimum_update()
    {
        Assert.Null(Default.MinimumUpdateFor(Default.FindHostOs("Windows Server 2025")!, "Windows Server 2025"));
        Assert.Null(Default.MinimumUpdateFor(Default.FindHostOs("Windows Server 2019")!, "Windows 11"));
    }

    private static string Catalogue(string licensing) => $$"""
        {
          "version": 1,
          "applications": [ { "id": "11111111-1111-1111-1111-111111111111", "slug": "windows", "name": "Windows" } ],
          "products": [
            { "id": "33333333-3333-3333-3333-333333333333", "slug": "client", "name": "Client", "application": "windows", "family": "Client", "kind": "windows-client", "threshold": 25 },
            { "id": "44444444-4444-4444-4444-444444444444", "slug": "server", "name": "Server", "application": "windows", "family": "Server", "kind": "windows-server", "threshold": 5 }
          ],
          {{licensing}}
        }
        """;

    private const string Systems = """
        "hostOperatingSystems": [ { "name": "Srv", "kind": "server" }, { "name": "Desk", "kind": "client" } ],
        """;

    public static TheoryData<string, string> BadTables => new()
    {
        { """ "hostOperatingSystems": [ { "name": "Srv", "kind": "mainframe" } ] """,
            "test: hostOperatingSystems[0].kind: \"mainframe\" is not one of server, client" },
        { """ "hostOperatingSystems": [ { "name": "Srv", "kind": "server" }, { "name": "srv", "kind": "client" } ] """,
            "test: hostOperatingSystems[1].name: \"srv\" is listed twice" },
        { """ "hostOperatingSystems": [ { "kind": "server" } ] """, "test: hostOperatingSystems[0].name: missing" },
        { Systems + """ "keyGroups": [ { "name": "G", "hostableOn": [ "Srv", "Svr 2" ], "activates": { "families": [ "Client" ] } } ] """,
            "test: keyGroups[0] (\"G\").hostableOn[1]: unknown host OS \"Svr 2\" (closest: Srv, Desk)" },
        { Systems + """ "keyGroups": [ { "name": "G", "activates": { "families": [ "Client" ] } } ] """,
            "test: keyGroups[0] (\"G\").hostableOn: missing or empty" },
        { Systems + """ "keyGroups": [ { "name": "G", "hostableOn": [ "Srv" ], "activates": { "families": [ "Client", "Severs" ] } } ] """,
            "test: keyGroups[0] (\"G\").activates.families[1]: no product of family \"Severs\" (closest: Server, Client)" },
        { Systems + """ "keyGroups": [ { "name": "G", "hostableOn": [ "Srv" ], "activates": { "products": [ "clint" ] } } ] """,
            "test: keyGroups[0] (\"G\").activates.products[0]: unknown product \"clint\" (closest: client, server)" },
        { Systems + """ "keyGroups": [ { "name": "G", "hostableOn": [ "Srv" ], "activates": { } } ] """,
            "test: keyGroups[0] (\"G\").activates: the group activates nothing" },
        { Systems + """ "keyGroups": [ { "name": "G", "hostableOn": [ "Srv" ], "activates": { "products": [ "client" ] } }, { "name": "g", "hostableOn": [ "Srv" ], "activates": { "products": [ "client" ] } } ] """,
            "test: keyGroups[1] (\"g\").name: the group is listed twice" },
        { Systems + """ "minimumUpdates": [ { "hostOs": "Mainframe", "clients": [ "Client" ], "update": "U" } ] """,
            "test: minimumUpdates[0].hostOs: unknown host OS \"Mainframe\"" },
        { Systems + """ "minimumUpdates": [ { "hostOs": "Srv", "clients": [ "Client", "Clients 2" ], "update": "U" } ] """,
            "test: minimumUpdates[0].clients[1]: unknown product family \"Clients 2\" (closest: Client, Server)" },
        { Systems + """ "minimumUpdates": [ { "hostOs": "Srv", "clients": [ "Client" ] } ] """,
            "test: minimumUpdates[0].update: missing" },
        { Systems + """ "minimumUpdates": [ { "hostOs": "Srv", "clients": [ "Client" ], "update": "U", "released": "July 2016" } ] """,
            "test: minimumUpdates[0].released: \"July 2016\" is not a date as yyyy-MM or yyyy-MM-dd" },
        { Systems + """ "minimumUpdates": [ { "hostOs": "Srv", "clients": [ "Client" ], "update": "U", "released": "2020-01" }, { "hostOs": "Srv", "clients": [ "Server", "Client" ], "update": "V" } ] """,
            "test: minimumUpdates[1].released: rows 0 and 1 both cover Srv hosting Client; both need a release date" },
        { """ "keyGroups": [ { "name": "G", "hostableOn": [ "Srv" ], "activates": { "products": [ "client" ] } } ] """,
            "test: keyGroups[0] (\"G\").hostableOn[0]: unknown host OS \"Srv\" (the catalogue lists no hostOperatingSystems)" },
    };

    [Theory]
    [MemberData(nameof(BadTables))]
    public void A_bad_licensing_table_names_the_field_and_what_is_wrong(string licensing, string message)
    {
        var json = Catalogue(licensing);
        var error = Assert.Throws<CatalogException>(() =>
            ProductCatalog.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json)), "test"));
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void Closest_names_rank_by_edit_distance_ignoring_case()
    {
        var closest = NameSuggestions.Closest(Default.HostOperatingSystems.Select(os => os.Name), "windows server 2091");
        Assert.Equal(3, closest.Count);
        Assert.Equal("Windows Server 2019", closest[0]); // one swap away
        Assert.Equal(1, NameSuggestions.EditDistance("2091", "2019"));
        Assert.Equal(3, NameSuggestions.EditDistance("kitten", "sitting"));
    }
}
