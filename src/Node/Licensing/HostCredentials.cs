using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using KmsCluster.Node.Configuration;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Node.Licensing;

/// <summary>A host certificate this node holds and may sign answers under, with its message pre-encoded.</summary>
public sealed class CertifiedKey(HostCertificate certificate, KeyGroup group)
{
    public HostCertificate Certificate { get; } = certificate;

    public KeyGroup Group { get; } = group;

    public string KeyId => Certificate.KeyId;

    /// <summary>The certificate as a connection sends it, once, before the first answer signed under it.</summary>
    public HostCertificateMessage Message { get; } = HostCertificateMessage.Of(certificate);
}

/// <summary>
/// The signer's view of this host's certificates (<see cref="HostCertificates"/>, which owns the key pair and the
/// files and checks each certificate): for every product, the certificate its answers are signed under, worked out
/// in advance so the activation path does one dictionary lookup. Rebuilt when a certificate is installed. A v2
/// request for a product no certificate covers gets host-not-certified.
/// </summary>
public sealed partial class HostCredentials
{
    private readonly HostCertificates _certificates;
    private readonly ProductCatalog _catalog;
    private readonly ILogger<HostCredentials> _log;
    private readonly Lock _rebuilding = new();
    private volatile FrozenDictionary<Guid, CertifiedKey> _byProduct = FrozenDictionary<Guid, CertifiedKey>.Empty;

    public HostCredentials(HostCertificates certificates, NodeOptions options, ILogger<HostCredentials> log)
    {
        _certificates = certificates;
        _catalog = options.Licensing.Catalog;
        _log = log;
        AllowUnsigned = options.AllowUnsigned;
        certificates.Changed += Rebuild;
        Rebuild();
    }

    /// <summary>v1 requests are served unsigned (<c>--allow-unsigned</c>).</summary>
    public bool AllowUnsigned { get; }

    /// <summary>Signs a batch's message (called by one signer at a time).</summary>
    internal byte[] Sign(ReadOnlySpan<byte> message) => _certificates.SigningKey.Sign(message);

    /// <summary>The certificate to sign <paramref name="product"/>'s answers under, or the refusal to send.</summary>
    public bool TryGet(Product product, DateTimeOffset now, [NotNullWhen(true)] out CertifiedKey? key, out string refusal)
    {
        if (_byProduct.TryGetValue(product.Id, out key))
        {
            if (now < key.Certificate.ExpiresAt)
            {
                refusal = "";
                return true;
            }
            refusal = $"this host's certificate for {product.Slug} (key {key.KeyId}) expired at {HostKey.FormatTime(key.Certificate.ExpiresAt)}; it cannot sign answers for it";
            key = null;
            return false;
        }
        var problems = _certificates.Problems;
        refusal = $"this host holds no valid host certificate covering {product.Slug}, so it cannot sign answers for it" +
            (problems.Count == 0 ? " (none installed in host-certificates/)" : $" ({string.Join("; ", problems)})");
        return false;
    }

    /// <summary>The newest certificate of a group wins for its products. One rebuild at a time, each reading the
    /// certificates after the install that triggered it: two keys certified at once must not leave the view of the
    /// first rebuild behind.</summary>
    private void Rebuild()
    {
        lock (_rebuilding) RebuildLocked();
    }

    private void RebuildLocked()
    {
        var valid = _certificates.All
            .Select(c => _catalog.FindKeyGroup(c.Group) is { } group ? new CertifiedKey(c, group) : null)
            .OfType<CertifiedKey>().ToList();
        _byProduct = _catalog.Products
            .Select(p => (Product: p, Key: valid.Where(k => k.Group.Covers(p)).MaxBy(k => k.Certificate.ExpiresAt)))
            .Where(x => x.Key is not null)
            .ToFrozenDictionary(x => x.Product.Id, x => x.Key!);
        foreach (var key in valid)
        {
            LogCertified(key.KeyId, key.Certificate.Group, HostKey.FormatTime(key.Certificate.ExpiresAt));
        }
        if (valid.Count == 0 && !AllowUnsigned)
        {
            LogUncertified();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Host certificate {KeyId} ({Group}) holds until {ExpiresAt}: answers for its products are signed")]
    private partial void LogCertified(string keyId, string group, string expiresAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No valid host certificate yet: every v2 request is refused with host-not-certified until the licensing authority certifies this host")]
    private partial void LogUncertified();
}
