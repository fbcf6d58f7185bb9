using System.Text;
using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Fuzz.Targets;

/// <summary>
/// The catalogue loader (<see cref="ProductCatalog.Load(Stream, string)"/>), as <c>--catalog FILE</c> reads an
/// operator's file. Contract: a bad catalogue throws <see cref="CatalogException"/> naming the source; an accepted
/// one finds each of its products by slug and by id.
/// </summary>
internal sealed class CatalogTarget : IFuzzTarget
{
    private const string Source = "fuzz-catalog.json";

    public string Name => "catalogue";

    public void Run(ReadOnlySpan<byte> input)
    {
        ProductCatalog catalog;
        try
        {
            catalog = ProductCatalog.Load(new MemoryStream(input.ToArray(), writable: false), Source);
        }
        catch (CatalogException e)
        {
            if (!e.Message.StartsWith(Source, StringComparison.Ordinal)) throw new ContractViolation($"error does not name its source: {e.Message}");
            return;
        }
        foreach (var product in catalog.Products)
        {
            if (catalog.FindProduct(product.Slug) != product || !catalog.TryGetProduct(product.Id, out var byId) || byId != product)
            {
                throw new ContractViolation($"product {product.Slug} is not found by its own slug or id");
            }
        }
    }

    public IEnumerable<(string Name, byte[] Bytes)> Seeds(string repoRoot)
    {
        yield return ("default-catalog.json", File.ReadAllBytes(Path.Combine(repoRoot, "src", "Protocol", "Catalog", "default-catalog.json")));
        // A small one: AFL mutates short inputs far faster, and this one still reaches every table's checks.
        yield return ("small-catalog.json", Encoding.UTF8.GetBytes("""
            {"version":1,
             "applications":[{"id":"26256b66-aecf-5843-8c19-11e0c33ded51","slug":"windows","name":"Windows"}],
             "products":[{"id":"091e1201-4a1e-5740-badd-659924d98bd6","slug":"windows-11-pro","name":"Windows 11 Pro",
               "application":"windows","family":"Windows 11","kind":"windows-client","threshold":25}],
             "hostOperatingSystems":[{"name":"Windows Server 2025","kind":"server"}],
             "keyGroups":[{"name":"g","hostableOn":["Windows Server 2025"],"activates":{"families":["Windows 11"],"products":["windows-11-pro"]}}],
             "minimumUpdates":[{"hostOs":"Windows Server 2025","clients":["Windows 11"],"update":"u","released":"2024-02-13"}]}
            """));
    }
}
