using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Node.Configuration;

/// <summary>A host key file as installed on this node.</summary>
public sealed record InstalledHostKey(string File, HostKey Key);

/// <summary>
/// The licensing settings of a node, read and checked at start-up: the catalogue (built in, or <c>--catalog</c>),
/// the host OS this node stands for (<c>--host-os</c>), the authorities it trusts (<c>--authority-key</c>) and its
/// host keys (<c>--host-key</c>). A file that cannot be read or is not what it should be stops start-up; a
/// well-formed key that is not valid here (expired, untrusted, badly signed, wrong group) does not: the node
/// starts, refuses activations and says why (<see cref="Licensing.HostLicence"/>).
/// </summary>
public sealed record NodeLicensing(
    ProductCatalog Catalog,
    string CatalogSource,
    HostOperatingSystem HostOs,
    IReadOnlyList<TrustedAuthority> Authorities,
    IReadOnlyList<InstalledHostKey> HostKeys)
{
    /// <summary>The licensing authority service that activates and certifies this host (<c>--authority-url</c>).</summary>
    public Uri? AuthorityUrl { get; init; }

    /// <summary>An authority key pair this node certifies itself with (<c>--authority-keys</c>, evaluation only).</summary>
    public LicensingAuthority? LocalAuthority { get; init; }

    internal static NodeLicensing Read(NodeSettings settings)
    {
        var catalogPath = settings.One(NodeFlags.Catalog).Trim();
        ProductCatalog catalog;
        try
        {
            catalog = catalogPath.Length == 0 ? ProductCatalog.Default : ProductCatalog.Load(Path.GetFullPath(catalogPath));
        }
        catch (CatalogException e)
        {
            throw new NodeOptionsException($"{NodeFlags.Catalog.Flag}: {e.Message}");
        }

        var hostOsText = settings.One(NodeFlags.HostOs).Trim();
        var hostOs = catalog.FindHostOs(hostOsText) ?? throw new NodeOptionsException(catalog.HostOperatingSystems.Count == 0
            ? $"{NodeFlags.HostOs.Flag}: the catalogue lists no host operating systems (hostOperatingSystems), so no host OS can be chosen"
            : $"{NodeFlags.HostOs.Flag}: \"{hostOsText}\" is not a host OS of the catalogue (closest: {string.Join(", ", NameSuggestions.Closest(catalog.HostOperatingSystems.Select(os => os.Name), hostOsText))})");

        var authorities = Files(settings.All(NodeFlags.AuthorityKey)).Select(path =>
        {
            try
            {
                return TrustedAuthority.Load(path);
            }
            catch (LicensingException e)
            {
                throw new NodeOptionsException($"{NodeFlags.AuthorityKey.Flag}: {e.Message}");
            }
        }).ToList();

        var (url, local) = (AuthorityUrlOf(settings), LocalAuthorityOf(settings));
        if (url is not null && local is not null)
        {
            local.Dispose();
            throw new NodeOptionsException($"give {NodeFlags.AuthorityUrl.Flag} or {NodeFlags.AuthorityKeys.Flag}, not both");
        }
        // A node that certifies itself trusts what it certifies.
        if (local is not null && authorities.All(a => a.Fingerprint != local.Public.Fingerprint))
        {
            authorities.Add(local.Public);
        }

        var keys = Files(settings.All(NodeFlags.HostKey)).Select(path =>
        {
            try
            {
                return new InstalledHostKey(path, HostKey.Load(path));
            }
            catch (HostKeyFormatException e)
            {
                throw new NodeOptionsException($"{NodeFlags.HostKey.Flag}: {e.Message}");
            }
        }).ToList();
        var twice = keys.GroupBy(k => k.Key.KeyId).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            throw new NodeOptionsException(
                $"{NodeFlags.HostKey.Flag}: key {twice.Key} is installed twice ({string.Join(", ", twice.Select(k => k.File))})");
        }
        return new NodeLicensing(catalog, catalogPath.Length == 0 ? "built-in" : Path.GetFullPath(catalogPath), hostOs, authorities, keys)
        {
            AuthorityUrl = url,
            LocalAuthority = local,
        };
    }

    private static Uri? AuthorityUrlOf(NodeSettings settings)
    {
        var text = settings.One(NodeFlags.AuthorityUrl).Trim();
        if (text.Length == 0) return null;
        return Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
            ? url
            : throw new NodeOptionsException($"{NodeFlags.AuthorityUrl.Flag}: \"{text}\" is not an http:// or https:// URL");
    }

    private static LicensingAuthority? LocalAuthorityOf(NodeSettings settings)
    {
        var directory = settings.One(NodeFlags.AuthorityKeys).Trim();
        if (directory.Length == 0) return null;
        try
        {
            return LicensingAuthority.Load(Path.GetFullPath(directory));
        }
        catch (LicensingException e)
        {
            throw new NodeOptionsException($"{NodeFlags.AuthorityKeys.Flag}: {e.Message}");
        }
    }

    private static IEnumerable<string> Files(IReadOnlyList<string> values) =>
        values.Select(v => v.Trim()).Where(v => v.Length > 0).Select(Path.GetFullPath);
}
