using KmsCluster.Node.Activation;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Persistence;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Node.Licensing;

/// <summary>
/// This host's own key pair and the certificates the licensing authority gave it, one per host key, in the data
/// directory (<see cref="DataDirectory.HostSigningKeyFile"/>, <see cref="DataDirectory.HostCertificatesDirectory"/>).
/// A certificate counts only if a trusted authority signed it for this host id and this host's public key, for
/// one of the node's host keys and its group: a copied data directory or a certificate of another host is ignored.
/// The private key never leaves the process: requests to the authority are signed here.
/// </summary>
public sealed partial class HostCertificates : IDisposable
{
    /// <summary>A certificate this close to its end is asked for again (not a re-activation: same host, same key).</summary>
    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    private readonly DataDirectory _data;
    private readonly HostIdentity _host;
    private readonly NodeLicensing _licensing;
    private readonly TimeProvider _time;
    private readonly ILogger<HostCertificates> _log;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HostCertificate> _byKey = new(StringComparer.Ordinal);
    private readonly List<string> _problems = [];

    public HostCertificates(DataDirectory data, HostIdentity host, NodeOptions options, TimeProvider time, ILogger<HostCertificates> log)
    {
        _data = data;
        _host = host;
        _licensing = options.Licensing;
        _time = time;
        _log = log;
        SigningKey = HostSigningKey.LoadOrCreate(data.HostSigningKeyFile);
        LoadAll();
    }

    /// <summary>The host's key pair; its public half is what certificates name.</summary>
    public HostSigningKey SigningKey { get; }

    /// <summary>A certificate was installed (the signer's view follows).</summary>
    public event Action? Changed;

    /// <summary>Every certificate kept (each checked when it was read or installed).</summary>
    public IReadOnlyList<HostCertificate> All
    {
        get
        {
            lock (_gate) return _byKey.Values.OrderBy(c => c.KeyId, StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>Why each certificate file found at start does not count.</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_gate) return _problems.ToList();
        }
    }

    /// <summary>The certificate that holds now for <paramref name="keyId"/>, if any.</summary>
    public HostCertificate? For(string keyId)
    {
        lock (_gate)
        {
            return _byKey.TryGetValue(keyId, out var certificate) && Problem(certificate, _time.GetUtcNow()) is null ? certificate : null;
        }
    }

    /// <summary>True when <paramref name="keyId"/> has no certificate that holds beyond <see cref="RenewBefore"/>.</summary>
    public bool NeedsCertificate(string keyId) =>
        For(keyId) is not { } certificate || certificate.ExpiresAt - _time.GetUtcNow() < RenewBefore;

    /// <summary>A request to the authority for <paramref name="key"/>, signed with this host's key.</summary>
    public HostActivationRequest Request(HostKey key, bool reactivation) =>
        SigningKey.Request(key, _host.Id, _host.Name, _time.GetUtcNow(), reactivation);

    /// <summary>With <c>--authority-keys</c> (evaluation): certifies this host for <paramref name="key"/> itself, as the
    /// authority would once the cluster's ledger has confirmed the host, unless a certificate holds beyond
    /// <see cref="RenewBefore"/>.</summary>
    public void CertifyLocally(HostKey key)
    {
        if (_licensing.LocalAuthority is not { } local || !NeedsCertificate(key.KeyId)) return;
        if (Install(local.Certify(key, _host.Id, SigningKey.PublicKey, _time.GetUtcNow())) is { } problem)
        {
            LogIgnored(PathOf(key.KeyId), problem);
        }
    }

    /// <summary>Checks <paramref name="certificate"/> and keeps it (file and memory); the reason when it is refused.</summary>
    public string? Install(HostCertificate certificate)
    {
        if (Problem(certificate, _time.GetUtcNow()) is { } problem)
        {
            return problem;
        }
        lock (_gate)
        {
            Directory.CreateDirectory(_data.HostCertificatesDirectory);
            var path = PathOf(certificate.KeyId);
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, certificate.ToJson());
            File.Move(temporary, path, overwrite: true);
            _byKey[certificate.KeyId] = certificate;
        }
        LogInstalled(certificate.KeyId, HostKey.FormatTime(certificate.ExpiresAt));
        Changed?.Invoke();
        return null;
    }

    /// <summary>Why <paramref name="certificate"/> does not serve this host now, or null.</summary>
    public string? Problem(HostCertificate certificate, DateTimeOffset now)
    {
        if (certificate.HostId != _host.Id)
        {
            return $"the certificate is for host {certificate.HostId}, this host is {_host.Id}";
        }
        if (!certificate.HostPublicKey.AsSpan().SequenceEqual(SigningKey.PublicKey))
        {
            return "the certificate names another public key than this host's (it was made for another data directory)";
        }
        var key = _licensing.HostKeys.FirstOrDefault(k => k.Key.KeyId == certificate.KeyId)?.Key;
        if (key is null)
        {
            return $"this host has no host key \"{certificate.KeyId}\" (--host-key)";
        }
        if (certificate.Group != key.Group)
        {
            return $"the certificate is for group \"{certificate.Group}\", host key {key.KeyId} is for \"{key.Group}\"";
        }
        var authority = _licensing.Authorities.FirstOrDefault(a => a.Fingerprint == certificate.Authority);
        return authority is null
            ? $"the certificate is signed by authority {certificate.Authority}, which this node does not trust (--authority-key)"
            : certificate.Problem(authority, now);
    }

    private void LoadAll()
    {
        if (!Directory.Exists(_data.HostCertificatesDirectory)) return;
        var now = _time.GetUtcNow();
        foreach (var installed in _licensing.HostKeys)
        {
            var path = PathOf(installed.Key.KeyId);
            if (!File.Exists(path)) continue;
            try
            {
                var certificate = HostCertificate.Load(path);
                if (Problem(certificate, now) is { } problem)
                {
                    _problems.Add($"{Path.GetFileName(path)}: {problem}");
                    LogIgnored(path, problem);
                    continue;
                }
                _byKey[certificate.KeyId] = certificate;
            }
            catch (HostKeyFormatException e)
            {
                _problems.Add(e.Message);
                LogIgnored(path, e.Message);
            }
        }
    }

    private string PathOf(string keyId) => Path.Combine(_data.HostCertificatesDirectory, keyId + ".json");

    public void Dispose() => SigningKey.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Host key {KeyId}: host certificate installed, valid until {ExpiresAt}")]
    private partial void LogInstalled(string keyId, string expiresAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Host certificate {File} ignored: {Reason}")]
    private partial void LogIgnored(string file, string reason);
}
