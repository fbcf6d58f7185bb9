using System.Collections.Frozen;

namespace KmsCluster.Protocol.Catalog;

/// <summary>Whether a host operating system is a server or a client OS: a host on a client OS activates only
/// client editions (no Windows Server edition), whatever its key's group says.</summary>
public enum HostOsKind
{
    Server,
    Client,
}

/// <summary>An operating system a KMS host can run on (the catalogue's <c>hostOperatingSystems</c>).</summary>
public sealed record HostOperatingSystem(string Name, HostOsKind Kind)
{
    public string KindName => Kind == HostOsKind.Server ? "server" : "client";

    /// <summary>A host on a client OS activates client editions only; a server OS host activates both.</summary>
    public bool MayActivate(Product product) => Kind == HostOsKind.Server || product.Kind != ProductKind.WindowsServer;

    public override string ToString() => Name;
}

/// <summary>A host-key group (the catalogue's <c>keyGroups</c>): which host operating systems a key of this
/// group may be installed on and which editions it activates.</summary>
public sealed class KeyGroup
{
    private readonly FrozenSet<Guid> _products;
    private readonly FrozenSet<string> _hostableOn;

    public KeyGroup(string name, IReadOnlyList<HostOperatingSystem> hostableOn, IReadOnlyList<Product> activates)
    {
        Name = name;
        HostableOn = hostableOn;
        Activates = activates;
        _products = activates.Select(p => p.Id).ToFrozenSet();
        _hostableOn = hostableOn.Select(os => os.Name).ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }

    public string Name { get; }

    /// <summary>The host operating systems a key of this group may be installed on.</summary>
    public IReadOnlyList<HostOperatingSystem> HostableOn { get; }

    /// <summary>Every edition the group activates, in catalogue order.</summary>
    public IReadOnlyList<Product> Activates { get; }

    public bool CanBeHostedOn(HostOperatingSystem os) => _hostableOn.Contains(os.Name);

    public bool Covers(Product product) => _products.Contains(product.Id);

    /// <summary>What a key of this group activates on a host of <paramref name="os"/>: nothing when the group
    /// cannot be hosted there; on a client OS only the client editions.</summary>
    public IReadOnlyList<Product> ActivatesOn(HostOperatingSystem os) =>
        CanBeHostedOn(os) ? Activates.Where(os.MayActivate).ToList() : [];

    public override string ToString() => Name;
}

/// <summary>A row of the catalogue's <c>minimumUpdates</c>: a host on <see cref="HostOs"/> needs
/// <see cref="Update"/> (or later) before it activates clients of the <see cref="ClientFamilies"/>.</summary>
/// <param name="Released">When the update came out, <c>yyyy-MM</c> or <c>yyyy-MM-dd</c>; where two rows name the
/// same host and client, the earlier one is the minimum.</param>
public sealed record MinimumUpdate(HostOperatingSystem HostOs, IReadOnlyList<string> ClientFamilies, string Update, string? Released)
{
    public bool Covers(string family) => ClientFamilies.Contains(family, StringComparer.OrdinalIgnoreCase);
}
