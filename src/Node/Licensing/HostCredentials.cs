using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using KmsCluster.Node.Activation;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Persistence;
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
/// The node's signing identity: its own key pair (<c>host-signing.key</c> in the data directory, made owner-only
/// on first start) and the host certificates of <c>host-certificates/*.json</c> that hold for it: signed by a
/// trusted authority (<c>--authority-key</c>), for this node's host id and its own public key, of a key group of the
/// catalogue, not expired. A v2 request for a product no such certificate covers gets host-not-certified.
/// Certificates can be added or re-read at run time (<see cref="Add"/>, <see cref="Reload"/>).
/// </summary>
public sealed partial class HostCredentials : IDisposable
{
    private readonly NodeLicensing _licensing;
    private readonly DataDirectory _data;
    private readonly HostIdentity _host;
    private readonly TimeProvider _time;
    private readonly ILogger<HostCredentials> _log;
    private readonly HostSigningKey _key;
    private readonly Lock _gate = new();
    private volatile FrozenDictionary<Guid, CertifiedKey> _byProduct = FrozenDictionary<Guid, CertifiedKey>.Empty;
    private IReadOnlyList<string> _problems = [];

    public HostCredentials(NodeOptions options, DataDirectory data, HostIdentity host, TimeProvider time, ILogger<HostCredentials> log)
    {
        _licensing = options.Licensing;
        _data = data;
        _host = host;
        _time = time;
        _log = log;
        AllowUnsigned = options.AllowUnsigned;
        _key = HostSigningKey.LoadOrCreate(data.HostSigningKeyFile);
        Reload();
    }

    /// <summary>v1 requests are served unsigned (<c>--allow-unsigned</c>).</summary>
    public bool AllowUnsigned { get; }

    /// <summary>This host's public key (SubjectPublicKeyInfo DER), as its certificates must name it.</summary>
    public byte[] PublicKey => _key.PublicKey;

    /// <summary>The certificates that hold, one per key id.</summary>
    public IReadOnlyList<CertifiedKey> Certificates => _byProduct.Values.DistinctBy(k => k.KeyId).OrderBy(k => k.KeyId).ToList();

    /// <summary>Why each certificate file that does not count does not.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_gate) return _problems;
        }
    }

    /// <summary>Signs a batch's message (called by one signer at a time).</summary>
    internal byte[] Sign(ReadOnlySpan<byte> message) => _key.Sign(message);

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
        var problems = Problems;
        refusal = $"this host holds no valid host certificate covering {product.Slug}, so it cannot sign answers for it" +
            (problems.Count == 0 ? " (none installed in host-certificates/)" : $" ({string.Join("; ", problems)})");
        return false;
    }

    /// <summary>Checks <paramref name="certificate"/>, writes it to host-certificates/&lt;keyId&gt;.json and re-reads
    /// the directory. Returns why it does not hold for this node (nothing written), or null.</summary>
    public string? Add(HostCertificate certificate)
    {
        if (Check(certificate, _time.GetUtcNow()) is { } problem) return problem;
        Directory.CreateDirectory(_data.HostCertificatesDirectory);
        var path = Path.Combine(_data.HostCertificatesDirectory, certificate.KeyId + ".json");
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, certificate.ToJson());
        File.Move(temporary, path, overwrite: true);
        Reload();
        return null;
    }

    /// <summary>Re-reads host-certificates/*.json; the newest valid certificate of a group wins for its products.</summary>
    public void Reload()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var valid = new List<CertifiedKey>();
            var problems = new List<string>();
            var directory = _data.HostCertificatesDirectory;
            var files = Directory.Exists(directory) ? Directory.GetFiles(directory, "*.json").Order().ToArray() : [];
            foreach (var file in files)
            {
                try
                {
                    var certificate = HostCertificate.Load(file);
                    if (Check(certificate, now) is { } problem)
                    {
                        problems.Add($"{Path.GetFileName(file)}: {problem}");
                        LogRefused(file, problem);
                        continue;
                    }
                    valid.Add(new CertifiedKey(certificate, _licensing.Catalog.FindKeyGroup(certificate.Group)!));
                    LogCertified(certificate.KeyId, certificate.Group, HostKey.FormatTime(certificate.ExpiresAt));
                }
                catch (HostKeyFormatException e)
                {
                    problems.Add(e.Message);
                    LogRefused(file, e.Message);
                }
            }
            _problems = problems;
            _byProduct = _licensing.Catalog.Products
                .Select(p => (Product: p, Key: valid.Where(k => k.Group.Covers(p)).MaxBy(k => k.Certificate.ExpiresAt)))
                .Where(x => x.Key is not null)
                .ToFrozenDictionary(x => x.Product.Id, x => x.Key!);
            if (valid.Count == 0 && !AllowUnsigned)
            {
                LogUncertified(directory);
            }
        }
    }

    /// <summary>Why <paramref name="certificate"/> does not hold for this node, or null.</summary>
    private string? Check(HostCertificate certificate, DateTimeOffset now)
    {
        var authority = _licensing.Authorities.FirstOrDefault(a => a.Fingerprint == certificate.Authority);
        if (authority is null)
        {
            return $"signed by authority {certificate.Authority}, which this node does not trust (--authority-key)";
        }
        if (certificate.Problem(authority, now) is { } problem) return problem;
        if (certificate.HostId != _host.Id)
        {
            return $"issued to host {certificate.HostId}, not this node ({_host.Id})";
        }
        if (!certificate.HostPublicKey.AsSpan().SequenceEqual(_key.PublicKey))
        {
            return "names another public key than this node's host-signing.key";
        }
        return _licensing.Catalog.FindKeyGroup(certificate.Group) is null
            ? $"key group \"{certificate.Group}\" is not in the catalogue"
            : null;
    }

    public void Dispose() => _key.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Host certificate {KeyId} ({Group}) holds until {ExpiresAt}: answers for its products are signed")]
    private partial void LogCertified(string keyId, string group, string expiresAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Host certificate {File} does not count: {Reason}")]
    private partial void LogRefused(string file, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No valid host certificate in {Directory}: every v2 request is refused with host-not-certified")]
    private partial void LogUncertified(string directory);
}
