using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Cli.Planning;

/// <summary>A client name of the plan (an edition, or a whole product family) and what it stands for.</summary>
public sealed record PlannedClient(string Name, string Family, IReadOnlyList<Product> Products);

/// <summary>One client's line of a compatibility plan.</summary>
/// <param name="KeyGroup">The key group whose key activates it on the planned host; null when none can.</param>
/// <param name="MinimumUpdate">The update the host needs before it activates it; null when the table lists none.</param>
/// <param name="Problem">Why no key on this host can activate it; null when one can.</param>
public sealed record ClientVerdict(PlannedClient Client, KeyGroup? KeyGroup, MinimumUpdate? MinimumUpdate, string? Problem);

/// <summary>Which host keys a host on <see cref="HostOs"/> needs for the clients, and which updates.</summary>
public sealed record CompatibilityPlan(HostOperatingSystem HostOs, IReadOnlyList<ClientVerdict> Clients)
{
    public bool Possible => Clients.All(c => c.Problem is null);

    /// <summary>The key groups to buy keys of, each with the clients it covers, in catalogue order of first use.</summary>
    public IReadOnlyList<(KeyGroup Group, IReadOnlyList<string> Covers)> KeyGroups =>
        Clients.Where(c => c.KeyGroup is not null).GroupBy(c => c.KeyGroup!)
            .Select(g => (g.Key, (IReadOnlyList<string>)g.Select(c => c.Client.Name).ToList())).ToList();

    public IReadOnlyList<string> Problems => Clients.Where(c => c.Problem is not null).Select(c => c.Problem!).ToList();
}

/// <summary>Whether a window's expected count reaches one threshold of the catalogue.</summary>
public sealed record ThresholdCheck(string Kind, int Threshold, bool Reached, string? Warning);

/// <summary>How many hosts a deployment needs and whether its clients can ever activate.</summary>
/// <param name="CountPerWindow">The count a host's window can reach: the clients of one site (spread evenly), at
/// most the 50 a window keeps.</param>
public sealed record SizingPlan(int Clients, int Sites, int Hosts, int CountPerWindow, IReadOnlyList<string> Reasons,
    IReadOnlyList<ThresholdCheck> Thresholds)
{
    public IReadOnlyList<string> Warnings => Thresholds.Where(t => t.Warning is not null).Select(t => t.Warning!).ToList();
}

/// <summary>A name the catalogue does not know, with the closest names it does.</summary>
public sealed class UnknownNameException(string what, string name, IReadOnlyList<string> closest)
    : Exception($"unknown {what} \"{name}\"; closest: {string.Join(", ", closest)}")
{
    public IReadOnlyList<string> Closest { get; } = closest;
}

/// <summary>
/// The planning assistant behind <c>kms plan</c>, from the catalogue's tables: which host-key group covers a set of
/// clients, whether the host OS can hold such a key and which minimum update it needs for newer clients; and how
/// many hosts a number of clients over a number of sites needs.
/// </summary>
public sealed class DeploymentPlanner(ProductCatalog catalog)
{
    /// <summary>The KMS model recommends a second host beyond this many clients, so that one can fail.</summary>
    public const int ClientsForOneHost = 50;

    /// <summary>A window keeps the latest 50 contacts: the count a client sees is at most this.</summary>
    public const int MaxCount = 50;

    /// <exception cref="UnknownNameException">the catalogue has no such host OS.</exception>
    public HostOperatingSystem HostOs(string name) =>
        catalog.FindHostOs(name) ?? throw new UnknownNameException("host OS", name.Trim(),
            NameSuggestions.Closest(catalog.HostOperatingSystems.Select(os => os.Name), name));

    /// <summary>A client by edition (slug, id or name) or by product family (all its editions).</summary>
    /// <exception cref="UnknownNameException">neither an edition nor a family of the catalogue.</exception>
    public PlannedClient Client(string name)
    {
        if (catalog.FindProduct(name) is { } product)
        {
            return new PlannedClient(product.Name, product.Family, [product]);
        }
        var family = catalog.Families.FirstOrDefault(f => string.Equals(f, name.Trim(), StringComparison.OrdinalIgnoreCase));
        if (family is not null)
        {
            return new PlannedClient(family, family, catalog.ProductsOfFamily(family));
        }
        var known = catalog.Families.Concat(catalog.Products.Select(p => p.Name));
        throw new UnknownNameException("client", name.Trim(), NameSuggestions.Closest(known, name));
    }

    public CompatibilityPlan Compatibility(HostOperatingSystem hostOs, IReadOnlyList<PlannedClient> clients)
    {
        var chosen = new List<KeyGroup>();
        var verdicts = clients.Select(client =>
        {
            var update = catalog.MinimumUpdateFor(hostOs, client.Family);
            var (group, problem) = ChooseGroup(hostOs, client, chosen);
            if (group is not null && !chosen.Contains(group)) chosen.Add(group);
            return new ClientVerdict(client, group, update, problem);
        }).ToList();
        return new CompatibilityPlan(hostOs, verdicts);
    }

    private (KeyGroup? Group, string? Problem) ChooseGroup(HostOperatingSystem hostOs, PlannedClient client, List<KeyGroup> chosen)
    {
        var covering = catalog.KeyGroups.Where(g => client.Products.All(g.Covers)).ToList();
        if (covering.Count == 0)
        {
            return (null, $"{client.Name}: no key group of the catalogue activates it");
        }
        if (!client.Products.All(hostOs.MayActivate))
        {
            return (null, $"{client.Name}: a server edition; a host on a client OS ({hostOs.Name}) activates client editions only");
        }
        var hostable = covering.Where(g => g.CanBeHostedOn(hostOs)).ToList();
        if (hostable.Count == 0)
        {
            return (null, $"{client.Name}: activated only by {string.Join(" or ", covering.Select(g => $"\"{g.Name}\" (hostable on {string.Join(", ", g.HostableOn.Select(os => os.Name))})"))}, not on {hostOs.Name}");
        }
        // One key for as many clients as it covers: prefer a group already in the plan.
        return (hostable.FirstOrDefault(chosen.Contains) ?? hostable[0], null);
    }

    public SizingPlan Sizing(int clients, int sites)
    {
        var reasons = new List<string>();
        var hosts = 1;
        if (clients > ClientsForOneHost)
        {
            hosts = 2;
            reasons.Add($"more than {ClientsForOneHost} clients: two hosts, so that one can fail");
        }
        if (sites > 1)
        {
            hosts = Math.Max(hosts, sites);
            reasons.Add($"{sites} separate sites: a host at each site");
        }
        if (reasons.Count == 0)
        {
            reasons.Add($"{clients} clients at one site: one host serves them (add a second to survive its failure)");
        }
        var perSite = clients / sites;
        var count = Math.Min(perSite, MaxCount);
        var thresholds = catalog.Products.GroupBy(p => (p.Kind, p.Threshold)).OrderByDescending(g => g.Key.Threshold)
            .Select(g =>
            {
                var kind = ProductCatalog.KindName(g.Key.Kind);
                var reached = count >= g.Key.Threshold;
                return new ThresholdCheck(kind, g.Key.Threshold, reached, reached ? null
                    : $"{kind} editions need a count of {g.Key.Threshold}, but a window here reaches at most {count} " +
                      $"({(sites > 1 ? $"{clients} clients over {sites} sites" : $"{clients} clients")}): they will never activate");
            }).ToList();
        return new SizingPlan(clients, sites, hosts, count, reasons, thresholds);
    }
}
