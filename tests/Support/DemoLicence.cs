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
}
