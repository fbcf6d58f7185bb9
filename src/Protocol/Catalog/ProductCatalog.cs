using System.Collections.Frozen;
using System.Text.Json;

namespace KmsCluster.Protocol.Catalog;

/// <summary>The products a host knows: applications, editions and their thresholds. Loaded from JSON data
/// (the embedded default, or an operator's file) and checked so that a bad file fails with a precise reason.</summary>
public sealed partial class ProductCatalog
{
    /// <summary>Highest threshold a catalogue may set; a window keeps twice that many contacts.</summary>
    public const int MaxThreshold = 1000;

    private readonly FrozenDictionary<Guid, Product> _productsById;
    private readonly FrozenDictionary<string, Product> _productsBySlug;
    private readonly FrozenDictionary<Guid, KmsApplication> _applicationsById;

    private ProductCatalog(IReadOnlyList<KmsApplication> applications, IReadOnlyList<Product> products,
        LicensingTables licensing)
    {
        Applications = applications;
        Products = products;
        HostOperatingSystems = licensing.HostOperatingSystems;
        KeyGroups = licensing.KeyGroups;
        MinimumUpdates = licensing.MinimumUpdates;
        _productsById = products.ToFrozenDictionary(p => p.Id);
        _productsBySlug = products.ToFrozenDictionary(p => p.Slug, StringComparer.OrdinalIgnoreCase);
        _applicationsById = applications.ToFrozenDictionary(a => a.Id);
    }

    public IReadOnlyList<KmsApplication> Applications { get; }

    public IReadOnlyList<Product> Products { get; }

    private static readonly Lazy<ProductCatalog> DefaultCatalog = new(LoadDefault);

    /// <summary>The Windows/Office catalogue built from the KMS model's seed tables.</summary>
    public static ProductCatalog Default => DefaultCatalog.Value;

    public bool TryGetProduct(Guid id, out Product product) => _productsById.TryGetValue(id, out product!);

    public bool TryGetApplication(Guid id, out KmsApplication application) =>
        _applicationsById.TryGetValue(id, out application!);

    /// <summary>Finds a product by slug, id or display name, ignoring case.</summary>
    public Product? FindProduct(string text)
    {
        text = text.Trim();
        if (Guid.TryParse(text, out var id))
        {
            return _productsById.GetValueOrDefault(id);
        }
        return _productsBySlug.GetValueOrDefault(text) ??
               Products.FirstOrDefault(p => string.Equals(p.Name, text, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Finds an application by slug, id or display name, ignoring case.</summary>
    public KmsApplication? FindApplication(string text)
    {
        text = text.Trim();
        if (Guid.TryParse(text, out var id))
        {
            return _applicationsById.GetValueOrDefault(id);
        }
        return Applications.FirstOrDefault(a =>
            string.Equals(a.Slug, text, StringComparison.OrdinalIgnoreCase) ||
            string.Equals(a.Name, text, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Up to <paramref name="count"/> known product slugs closest to a mistyped one.</summary>
    public IReadOnlyList<string> SuggestProducts(string text, int count = 3) =>
        NameSuggestions.Closest(Products.Select(p => p.Slug).Order(StringComparer.Ordinal), text, count);

    public static ProductCatalog Load(string path)
    {
        FileStream stream;
        try
        {
            stream = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CatalogException($"{path}: cannot read the catalogue: {e.Message}");
        }
        using (stream)
        {
            return Load(stream, path);
        }
    }

    /// <summary>Parses and checks a catalogue; <see cref="CatalogException"/> names the first problem found.</summary>
    public static ProductCatalog Load(Stream json, string source)
    {
        CatalogDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, CatalogJsonContext.Default.CatalogDocument);
        }
        catch (JsonException e)
        {
            throw new CatalogException($"{source}: not a valid catalogue: {e.Message}");
        }
        if (document is null)
        {
            throw new CatalogException($"{source}: empty catalogue");
        }
        return FromDocument(document, source);
    }

    private static ProductCatalog FromDocument(CatalogDocument document, string source)
    {
        if (document.Version != 1)
        {
            throw new CatalogException($"{source}: catalogue version {document.Version} is not supported (expected 1)");
        }
        if (document.Applications is not { Count: > 0 })
        {
            throw new CatalogException($"{source}: no applications");
        }
        if (document.Products is not { Count: > 0 })
        {
            throw new CatalogException($"{source}: no products");
        }

        var applications = new List<KmsApplication>();
        var applicationsBySlug = new Dictionary<string, KmsApplication>(StringComparer.OrdinalIgnoreCase);
        var seenIds = new HashSet<Guid>();
        for (var i = 0; i < document.Applications.Count; i++)
        {
            var entry = document.Applications[i];
            var where = $"{source}: applications[{i}]";
            var id = RequireGuid(entry.Id, where);
            var slug = RequireSlug(entry.Slug, where);
            var name = Require(entry.Name, where, "name");
            if (!seenIds.Add(id)) throw new CatalogException($"{where}: id {id} is used twice");
            var application = new KmsApplication(id, slug, name);
            if (!applicationsBySlug.TryAdd(slug, application))
            {
                throw new CatalogException($"{where}: slug \"{slug}\" is used twice");
            }
            applications.Add(application);
        }

        var products = new List<Product>();
        var productSlugs = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < document.Products.Count; i++)
        {
            var entry = document.Products[i];
            var where = $"{source}: products[{i}]";
            var id = RequireGuid(entry.Id, where);
            var slug = RequireSlug(entry.Slug, where);
            where = $"{source}: product \"{slug}\"";
            var name = Require(entry.Name, where, "name");
            var applicationSlug = Require(entry.Application, where, "application");
            if (!applicationsBySlug.TryGetValue(applicationSlug, out var application))
            {
                throw new CatalogException($"{where}: unknown application \"{applicationSlug}\" (known: {string.Join(", ", applicationsBySlug.Keys)})");
            }
            var kind = ParseKind(Require(entry.Kind, where, "kind"), where);
            if (entry.Threshold is not { } threshold || threshold < 1 || threshold > MaxThreshold)
            {
                throw new CatalogException($"{where}: threshold must be between 1 and {MaxThreshold}, got {entry.Threshold?.ToString() ?? "nothing"}");
            }
            if (!seenIds.Add(id)) throw new CatalogException($"{where}: id {id} is used twice");
            if (!productSlugs.Add(slug)) throw new CatalogException($"{where}: slug \"{slug}\" is used twice");
            products.Add(new Product(id, slug, name, application, entry.Family ?? name, kind, threshold));
        }
        return new ProductCatalog(applications, products, ReadLicensing(document, source, products));
    }

    private static ProductCatalog LoadDefault()
    {
        using var stream = typeof(ProductCatalog).Assembly.GetManifestResourceStream("KmsCluster.Protocol.default-catalog.json")
            ?? throw new InvalidOperationException("the default catalogue resource is missing from the build");
        return Load(stream, "default catalogue");
    }

    private static ProductKind ParseKind(string text, string where) => text switch
    {
        "windows-client" => ProductKind.WindowsClient,
        "windows-server" => ProductKind.WindowsServer,
        "office" => ProductKind.Office,
        "other" => ProductKind.Other,
        _ => throw new CatalogException($"{where}: kind \"{text}\" is not one of windows-client, windows-server, office, other"),
    };

    public static string KindName(ProductKind kind) => kind switch
    {
        ProductKind.WindowsClient => "windows-client",
        ProductKind.WindowsServer => "windows-server",
        ProductKind.Office => "office",
        _ => "other",
    };

    private static string Require(string? value, string where, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw new CatalogException($"{where}: {field} is missing") : value.Trim();

    private static Guid RequireGuid(string? value, string where) =>
        Guid.TryParse(value, out var id) && id != Guid.Empty
            ? id
            : throw new CatalogException($"{where}: id \"{value}\" is not a GUID");

    private static string RequireSlug(string? value, string where)
    {
        var slug = Require(value, where, "slug");
        if (!slug.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.'))
        {
            throw new CatalogException($"{where}: slug \"{slug}\" may hold only a-z, 0-9, '-' and '.'");
        }
        return slug;
    }
}

/// <summary>A catalogue file is invalid; the message names the entry and the problem.</summary>
public sealed class CatalogException(string message) : Exception(message);
