using System.Text;
using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Protocol.Tests;

public class ProductCatalogTests
{
    private static readonly ProductCatalog Default = ProductCatalog.Default;

    [Fact]
    public void The_default_catalogue_loads_with_windows_and_office()
    {
        Assert.NotEmpty(Default.Products);
        Assert.Equal(["office", "windows"], Default.Applications.Select(a => a.Slug).Order());
        Assert.Contains(Default.Products, p => p.Kind == ProductKind.Office);
        Assert.Contains(Default.Products, p => p.Kind == ProductKind.WindowsClient);
        Assert.Contains(Default.Products, p => p.Kind == ProductKind.WindowsServer);
    }

    [Fact]
    public void Every_windows_client_edition_needs_25_and_is_counted_in_the_windows_window()
    {
        var clients = Default.Products.Where(p => p.Kind == ProductKind.WindowsClient).ToList();
        Assert.NotEmpty(clients);
        Assert.All(clients, p => Assert.Equal(25, p.Threshold));
        Assert.All(clients, p => Assert.Equal("windows", p.Application.Slug));
    }

    [Fact]
    public void Every_windows_server_edition_needs_5_and_is_counted_in_the_windows_window()
    {
        var servers = Default.Products.Where(p => p.Kind == ProductKind.WindowsServer).ToList();
        Assert.NotEmpty(servers);
        Assert.All(servers, p => Assert.Equal(5, p.Threshold));
        Assert.All(servers, p => Assert.Equal("windows", p.Application.Slug));
    }

    [Fact]
    public void Every_office_edition_needs_5_and_is_counted_in_the_office_window()
    {
        var office = Default.Products.Where(p => p.Kind == ProductKind.Office).ToList();
        Assert.NotEmpty(office);
        Assert.All(office, p => Assert.Equal(5, p.Threshold));
        Assert.All(office, p => Assert.Equal("office", p.Application.Slug));
    }

    [Fact]
    public void Ids_and_slugs_are_unique()
    {
        var ids = Default.Products.Select(p => p.Id).Concat(Default.Applications.Select(a => a.Id)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.DoesNotContain(Guid.Empty, ids);
        var slugs = Default.Products.Select(p => p.Slug).ToList();
        Assert.Equal(slugs.Count, slugs.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void The_model_editions_are_in_the_default_catalogue()
    {
        Assert.NotNull(Default.FindProduct("windows-11-enterprise"));
        Assert.NotNull(Default.FindProduct("windows-server-2025-standard"));
        Assert.NotNull(Default.FindProduct("office-ltsc-2024-professional-plus"));
    }

    [Theory]
    [InlineData("windows-11-enterprise")]
    [InlineData("WINDOWS-11-Enterprise")]
    [InlineData("  windows-11-enterprise  ")]
    [InlineData("91dd771e-a4d0-554c-8b1b-759f25ef7df8")]
    [InlineData("91DD771E-A4D0-554C-8B1B-759F25EF7DF8")]
    [InlineData("{91dd771e-a4d0-554c-8b1b-759f25ef7df8}")]
    [InlineData("Windows 11 Enterprise")]
    [InlineData("windows 11 enterprise")]
    public void A_product_is_found_by_slug_id_or_display_name_ignoring_case(string text)
    {
        var product = Default.FindProduct(text);
        Assert.NotNull(product);
        Assert.Equal("windows-11-enterprise", product.Slug);
        Assert.Equal(Guid.Parse("91dd771e-a4d0-554c-8b1b-759f25ef7df8"), product.Id);
        Assert.Equal(25, product.Threshold);
    }

    [Theory]
    [InlineData("windows-12-enterprise")]
    [InlineData("00000000-0000-0000-0000-000000000001")]
    [InlineData("")]
    public void An_unknown_product_is_not_found(string text)
    {
        Assert.Null(Default.FindProduct(text));
    }

    [Fact]
    public void Lookups_by_id_agree_with_the_product_list()
    {
        foreach (var product in Default.Products)
        {
            Assert.True(Default.TryGetProduct(product.Id, out var found));
            Assert.Same(product, found);
            Assert.Same(product, Default.FindProduct(product.Slug));
            Assert.True(Default.TryGetApplication(product.Application.Id, out var application));
            Assert.Same(product.Application, application);
        }
        Assert.False(Default.TryGetProduct(Guid.NewGuid(), out _));
    }

    [Theory]
    [InlineData("windows", "windows")]
    [InlineData("Windows", "windows")]
    [InlineData("OFFICE", "office")]
    [InlineData("26256b66-aecf-5843-8c19-11e0c33ded51", "windows")]
    [InlineData("2f749282-0cd1-5565-a291-c7a6835e76e7", "office")]
    public void An_application_is_found_by_slug_name_or_id(string text, string slug)
    {
        Assert.Equal(slug, Default.FindApplication(text)?.Slug);
    }

    [Fact]
    public void An_unknown_application_is_not_found()
    {
        Assert.Null(Default.FindApplication("visio"));
        Assert.Null(Default.FindApplication(Guid.NewGuid().ToString()));
    }

    [Theory]
    [InlineData("windows-11-enterprize", "windows-11-enterprise")]
    [InlineData("windws-server-2025-standard", "windows-server-2025-standard")]
    [InlineData("OFFICE-LTSC-2024-PROFESIONAL-PLUS", "office-ltsc-2024-professional-plus")]
    public void A_typo_gets_the_intended_product_as_first_suggestion(string typo, string intended)
    {
        var suggestions = Default.SuggestProducts(typo);
        Assert.Equal(3, suggestions.Count);
        Assert.Equal(intended, suggestions[0]);
        Assert.All(suggestions, s => Assert.NotNull(Default.FindProduct(s)));
    }

    [Fact]
    public void Kind_names_match_the_catalogue_file_words()
    {
        Assert.Equal("windows-client", ProductCatalog.KindName(ProductKind.WindowsClient));
        Assert.Equal("windows-server", ProductCatalog.KindName(ProductKind.WindowsServer));
        Assert.Equal("office", ProductCatalog.KindName(ProductKind.Office));
        Assert.Equal("other", ProductCatalog.KindName(ProductKind.Other));
    }

    // A small valid catalogue that each bad-file test breaks in one place.
    private const string ValidCatalogue = """
        {
          "version": 1,
          "comment": "test catalogue",
          "applications": [
            { "id": "11111111-1111-1111-1111-111111111111", "slug": "windows", "name": "Windows" },
            { "id": "22222222-2222-2222-2222-222222222222", "slug": "office", "name": "Office" }
          ],
          "products": [
            { "id": "33333333-3333-3333-3333-333333333333", "slug": "client", "name": "Client", "application": "windows", "family": "Client", "kind": "windows-client", "threshold": 25 },
            { "id": "44444444-4444-4444-4444-444444444444", "slug": "suite", "name": "Suite", "application": "office", "kind": "office", "threshold": 5 },
            // Comments and trailing commas are allowed.
            { "id": "55555555-5555-5555-5555-555555555555", "slug": "tool", "name": "Tool", "application": "office", "kind": "other", "threshold": 1000 },
          ]
        }
        """;

    private static string Break(string find, string replace)
    {
        Assert.Contains(find, ValidCatalogue);
        return ValidCatalogue.Replace(find, replace);
    }

    private static ProductCatalog LoadFile(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), $"kms-catalog-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        try
        {
            return ProductCatalog.Load(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_valid_catalogue_file_loads()
    {
        var catalog = LoadFile(ValidCatalogue);
        Assert.Equal(3, catalog.Products.Count);
        var suite = catalog.FindProduct("suite");
        Assert.NotNull(suite);
        Assert.Equal("Suite", suite.Family); // family defaults to the name
        Assert.Equal(ProductKind.Office, suite.Kind);
        Assert.Equal("office", suite.Application.Slug);
        Assert.Equal(ProductKind.Other, catalog.FindProduct("tool")!.Kind);
    }

    public static TheoryData<string, string> BadCatalogues => new()
    {
        // the file, words the message must hold
        { Break("\"id\": \"44444444-4444-4444-4444-444444444444\"", "\"id\": \"33333333-3333-3333-3333-333333333333\""), "id 33333333-3333-3333-3333-333333333333 is used twice" },
        { Break("\"id\": \"22222222-2222-2222-2222-222222222222\"", "\"id\": \"11111111-1111-1111-1111-111111111111\""), "applications[1]: id 11111111-1111-1111-1111-111111111111 is used twice" },
        { Break("\"id\": \"33333333-3333-3333-3333-333333333333\"", "\"id\": \"22222222-2222-2222-2222-222222222222\""), "is used twice" },
        { Break("\"slug\": \"suite\"", "\"slug\": \"client\""), "slug \"client\" is used twice" },
        { Break("\"slug\": \"office\"", "\"slug\": \"windows\""), "slug \"windows\" is used twice" },
        { Break("\"application\": \"office\", \"kind\": \"office\"", "\"application\": \"visio\", \"kind\": \"office\""), "unknown application \"visio\"" },
        { Break("\"threshold\": 5", "\"threshold\": 0"), "product \"suite\": threshold must be between 1 and 1000, got 0" },
        { Break("\"threshold\": 1000", "\"threshold\": 1001"), "product \"tool\": threshold must be between 1 and 1000, got 1001" },
        { Break("\"threshold\": 5", "\"threshold\": -5"), "got -5" },
        { Break(", \"threshold\": 5", ""), "product \"suite\": threshold must be between 1 and 1000, got nothing" },
        { Break("\"kind\": \"office\"", "\"kind\": \"desktop\""), "kind \"desktop\" is not one of" },
        { Break("\"kind\": \"office\"", "\"kind\": \"Office\""), "kind \"Office\" is not one of" },
        { Break("\"comment\"", "\"colour\""), "JSON property 'colour'" },
        { Break("\"family\": \"Client\"", "\"family\": \"Client\", \"edition\": 3"), "JSON property 'edition'" },
        { Break("\"version\": 1", "\"version\": 2"), "catalogue version 2 is not supported" },
        { Break("\"version\": 1,", ""), "catalogue version 0 is not supported" },
        { Break("\"name\": \"Suite\", ", ""), "product \"suite\": name is missing" },
        { Break(", \"kind\": \"office\"", ""), "product \"suite\": kind is missing" },
        { Break("\"application\": \"office\", ", ""), "product \"suite\": application is missing" },
        { Break("\"slug\": \"suite\", ", ""), "products[1]: slug is missing" },
        { Break("\"id\": \"44444444-4444-4444-4444-444444444444\", ", ""), "products[1]: id \"\" is not a GUID" },
        { Break("44444444-4444-4444-4444-444444444444", "not-a-guid"), "id \"not-a-guid\" is not a GUID" },
        { Break("44444444-4444-4444-4444-444444444444", "00000000-0000-0000-0000-000000000000"), "is not a GUID" },
        { Break("\"slug\": \"suite\"", "\"slug\": \"Suite Pro\""), "may hold only a-z, 0-9" },
        { Break("\"name\": \"Office\"", "\"name\": \"  \""), "applications[1]: name is missing" },
        { "{ \"version\": 1, \"applications\": [], \"products\": [] }", "no applications" },
        { Break("\"products\": [", "\"products\": [], \"x\": ["), "JSON property 'x'" },
        { "null", "empty catalogue" },
        { "", "not a valid catalogue" },
        { "{ \"version\": 1, ", "not a valid catalogue" },
        { Break("\"threshold\": 25", "\"threshold\": \"25\""), "$.products[0].threshold" },
    };

    [Theory]
    [MemberData(nameof(BadCatalogues))]
    public void A_bad_catalogue_file_is_refused_with_a_message_naming_the_problem(string json, string expected)
    {
        var e = Assert.Throws<CatalogException>(() => LoadFile(json));
        Assert.Contains(expected, e.Message);
        Assert.Contains("kms-catalog-", e.Message); // names the file
    }

    [Fact]
    public void A_catalogue_file_that_does_not_exist_is_a_catalogue_error_naming_the_path()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-catalogue-" + Guid.NewGuid().ToString("N") + ".json");
        var e = Assert.Throws<CatalogException>(() => ProductCatalog.Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void A_catalogue_without_products_is_refused()
    {
        var json = """{ "version": 1, "applications": [ { "id": "11111111-1111-1111-1111-111111111111", "slug": "windows", "name": "Windows" } ] }""";
        var e = Assert.Throws<CatalogException>(() => ProductCatalog.Load(new MemoryStream(Encoding.UTF8.GetBytes(json)), "mine.json"));
        Assert.Equal("mine.json: no products", e.Message);
    }
}
