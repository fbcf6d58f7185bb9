using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Testing;

/// <summary>
/// The demo licence of deploy/demo-licence (copied next to the test assemblies): the demo authority and its Windows
/// Server 2025 and Office LTSC 2024 host keys, which together activate every product of the built-in catalogue.
/// <see cref="NodeProcess"/> starts every node with them unless a test names its own --host-key or --authority-key.
/// </summary>
public static class DemoLicence
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "demo-licence");

    /// <summary>The demo authority's public key (what nodes trust).</summary>
    public static string AuthorityPublicKey => Path.Combine(Directory, "authority.pub");

    public static string WindowsKey => Path.Combine(Directory, "windows-server-2025.hostkey.json");

    public static string OfficeKey => Path.Combine(Directory, "office-ltsc-2024.hostkey.json");

    public const string WindowsKeyId = "demo-windows-server-2025";

    public const string OfficeKeyId = "demo-office-ltsc-2024";

    /// <summary>The kms-node flags that install the demo licence.</summary>
    public static string[] Args => ["--authority-key", AuthorityPublicKey, "--host-key", WindowsKey, "--host-key", OfficeKey];

    /// <summary>The demo licence unless <paramref name="args"/> choose keys or authorities of their own.</summary>
    public static string[] Unless(IReadOnlyCollection<string> args) =>
        args.Contains("--host-key") || args.Contains("--authority-key") ? [] : Args;

    /// <summary>Prepares <paramref name="dataDirectory"/> as a node's, certified for the demo host keys: its node-id
    /// and host-signing.key (kept when present), and host-certificates/&lt;keyId&gt;.json signed with the demo authority's
    /// private key (as the authority service would answer). Returns the node's host id.</summary>
    public static Guid Certify(string dataDirectory, TimeSpan? validity = null, DateTimeOffset? now = null) =>
        Certify(dataDirectory, [WindowsKey, OfficeKey], validity, now);

    /// <summary>As <see cref="Certify(string, TimeSpan?, DateTimeOffset?)"/> for the host key files
    /// <paramref name="hostKeys"/>; keys of another authority (or unreadable files) are left uncertified.</summary>
    public static Guid Certify(string dataDirectory, IEnumerable<string> hostKeys, TimeSpan? validity = null, DateTimeOffset? now = null)
    {
        System.IO.Directory.CreateDirectory(dataDirectory);
        var nodeIdFile = Path.Combine(dataDirectory, "node-id");
        if (!File.Exists(nodeIdFile) || !Guid.TryParse(File.ReadAllText(nodeIdFile).Trim(), out var hostId))
        {
            hostId = Guid.NewGuid();
            File.WriteAllText(nodeIdFile, hostId + Environment.NewLine);
        }
        using var key = HostSigningKey.LoadOrCreate(Path.Combine(dataDirectory, "host-signing.key"));
        using var authority = LicensingAuthority.Load(Directory);
        var certificates = Path.Combine(dataDirectory, "host-certificates");
        System.IO.Directory.CreateDirectory(certificates);
        foreach (var file in hostKeys)
        {
            HostKey hostKey;
            try
            {
                hostKey = HostKey.Load(file);
            }
            catch (HostKeyFormatException)
            {
                continue;
            }
            if (hostKey.Authority != authority.Public.Fingerprint) continue;
            var certificate = authority.Certify(hostKey, hostId, key.PublicKey, now ?? DateTimeOffset.UtcNow, validity);
            File.WriteAllText(Path.Combine(certificates, hostKey.KeyId + ".json"), certificate.ToJson());
        }
        return hostId;
    }
}
