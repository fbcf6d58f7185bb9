using System.Text.RegularExpressions;

namespace KmsCluster.Protocol.Catalog;

/// <summary>The licensing tables of the catalogue: host operating systems, host-key groups and the minimum
/// updates a host needs for newer clients (docs/licensing.md). A catalogue without them still loads; a node
/// then has no OS to run on and no group a key can name.</summary>
public sealed partial class ProductCatalog
{
    public IReadOnlyList<HostOperatingSystem> HostOperatingSystems { get; }

    public IReadOnlyList<KeyGroup> KeyGroups { get; }

    public IReadOnlyList<MinimumUpdate> MinimumUpdates { get; }

    /// <summary>Every product family, in catalogue order.</summary>
    public IReadOnlyList<string> Families => Products.Select(p => p.Family).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    public HostOperatingSystem? FindHostOs(string name) =>
        HostOperatingSystems.FirstOrDefault(os => string.Equals(os.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    public KeyGroup? FindKeyGroup(string name) =>
        KeyGroups.FirstOrDefault(g => string.Equals(g.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The products of a family (Windows Server 2025: its Standard and Datacenter editions).</summary>
    public IReadOnlyList<Product> ProductsOfFamily(string family) =>
        Products.Where(p => string.Equals(p.Family, family.Trim(), StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>The update a host on <paramref name="host"/> needs before it activates clients of
    /// <paramref name="family"/>; null when the table lists none. Several rows: the earliest released.</summary>
    public MinimumUpdate? MinimumUpdateFor(HostOperatingSystem host, string family) =>
        MinimumUpdates.Where(u => u.HostOs == host && u.Covers(family))
            .OrderBy(u => u.Released, StringComparer.Ordinal)
            .FirstOrDefault();

    private sealed record LicensingTables(
        IReadOnlyList<HostOperatingSystem> HostOperatingSystems,
        IReadOnlyList<KeyGroup> KeyGroups,
        IReadOnlyList<MinimumUpdate> MinimumUpdates);

    private static LicensingTables ReadLicensing(CatalogDocument document, string source, IReadOnlyList<Product> products)
    {
        var systems = new List<HostOperatingSystem>();
        var entries = document.HostOperatingSystems ?? [];
        for (var i = 0; i < entries.Count; i++)
        {
            var where = $"{source}: hostOperatingSystems[{i}]";
            var name = RequireText(entries[i].Name, where, "name");
            var kind = entries[i].Kind switch
            {
                "server" => HostOsKind.Server,
                "client" => HostOsKind.Client,
                var other => throw new CatalogException($"{where}.kind: \"{other}\" is not one of server, client"),
            };
            if (systems.Any(os => string.Equals(os.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                throw new CatalogException($"{where}.name: \"{name}\" is listed twice");
            }
            systems.Add(new HostOperatingSystem(name, kind));
        }

        var families = products.Select(p => p.Family).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var groups = new List<KeyGroup>();
        var groupEntries = document.KeyGroups ?? [];
        for (var i = 0; i < groupEntries.Count; i++)
        {
            var entry = groupEntries[i];
            var name = RequireText(entry.Name, $"{source}: keyGroups[{i}]", "name");
            var where = $"{source}: keyGroups[{i}] (\"{name}\")";
            if (groups.Any(g => string.Equals(g.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                throw new CatalogException($"{where}.name: the group is listed twice");
            }
            if (entry.HostableOn is not { Count: > 0 })
            {
                throw new CatalogException($"{where}.hostableOn: missing or empty (name at least one host operating system)");
            }
            var hostable = entry.HostableOn.Select((os, j) => KnownHostOs(systems, os, $"{where}.hostableOn[{j}]")).Distinct().ToList();
            var activated = new HashSet<Guid>();
            var activatedFamilies = entry.Activates?.Families ?? [];
            for (var j = 0; j < activatedFamilies.Count; j++)
            {
                var family = activatedFamilies[j]?.Trim() ?? "";
                var members = products.Where(p => string.Equals(p.Family, family, StringComparison.OrdinalIgnoreCase)).ToList();
                if (members.Count == 0)
                {
                    throw new CatalogException(
                        $"{where}.activates.families[{j}]: no product of family \"{family}\" (closest: {string.Join(", ", NameSuggestions.Closest(families, family))})");
                }
                activated.UnionWith(members.Select(p => p.Id));
            }
            var activatedProducts = entry.Activates?.Products ?? [];
            for (var j = 0; j < activatedProducts.Count; j++)
            {
                var slug = activatedProducts[j]?.Trim() ?? "";
                var product = products.FirstOrDefault(p => string.Equals(p.Slug, slug, StringComparison.OrdinalIgnoreCase))
                    ?? throw new CatalogException(
                        $"{where}.activates.products[{j}]: unknown product \"{slug}\" (closest: {string.Join(", ", NameSuggestions.Closest(products.Select(p => p.Slug), slug))})");
                activated.Add(product.Id);
            }
            if (activated.Count == 0)
            {
                throw new CatalogException($"{where}.activates: the group activates nothing (give families or products)");
            }
            groups.Add(new KeyGroup(name, hostable, products.Where(p => activated.Contains(p.Id)).ToList()));
        }

        var updates = new List<MinimumUpdate>();
        var updateEntries = document.MinimumUpdates ?? [];
        for (var i = 0; i < updateEntries.Count; i++)
        {
            var entry = updateEntries[i];
            var where = $"{source}: minimumUpdates[{i}]";
            var host = KnownHostOs(systems, entry.HostOs, $"{where}.hostOs");
            if (entry.Clients is not { Count: > 0 })
            {
                throw new CatalogException($"{where}.clients: missing or empty (name at least one product family)");
            }
            var clients = new List<string>();
            for (var j = 0; j < entry.Clients.Count; j++)
            {
                var text = entry.Clients[j]?.Trim() ?? "";
                clients.Add(families.FirstOrDefault(f => string.Equals(f, text, StringComparison.OrdinalIgnoreCase))
                    ?? throw new CatalogException(
                        $"{where}.clients[{j}]: unknown product family \"{text}\" (closest: {string.Join(", ", NameSuggestions.Closest(families, text))})"));
            }
            var update = RequireText(entry.Update, where, "update");
            if (entry.Released is { } released && !ReleasedPattern().IsMatch(released))
            {
                throw new CatalogException($"{where}.released: \"{released}\" is not a date as yyyy-MM or yyyy-MM-dd");
            }
            var row = new MinimumUpdate(host, clients, update, entry.Released);
            // Where two rows cover the same host and client, the earlier update is the minimum: both need a date.
            var overlap = updates.FindIndex(other => other.HostOs == host && other.ClientFamilies.Any(row.Covers));
            if (overlap >= 0 && (row.Released is null || updates[overlap].Released is null))
            {
                throw new CatalogException(
                    $"{where}.released: rows {overlap} and {i} both cover {host.Name} hosting {updates[overlap].ClientFamilies.First(row.Covers)}; both need a release date to tell which is the minimum");
            }
            updates.Add(row);
        }
        return new LicensingTables(systems, groups, updates);
    }

    private static HostOperatingSystem KnownHostOs(List<HostOperatingSystem> systems, string? name, string where)
    {
        var text = name?.Trim() ?? "";
        return systems.FirstOrDefault(os => string.Equals(os.Name, text, StringComparison.OrdinalIgnoreCase))
            ?? throw new CatalogException(systems.Count == 0
                ? $"{where}: unknown host OS \"{text}\" (the catalogue lists no hostOperatingSystems)"
                : $"{where}: unknown host OS \"{text}\" (closest: {string.Join(", ", NameSuggestions.Closest(systems.Select(os => os.Name), text))})");
    }

    private static string RequireText(string? value, string where, string field) =>
        string.IsNullOrWhiteSpace(value) ? throw new CatalogException($"{where}.{field}: missing") : value.Trim();

    [GeneratedRegex(@"^[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$")]
    private static partial Regex ReleasedPattern();
}
