using System.Security.Cryptography;
using KmsCluster.Node.Configuration;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Node.Persistence;

/// <summary>
/// The node's data directory (--data) and every file in it; other types ask it for their file instead of
/// naming one. One kms-node per directory: <see cref="Lock"/> holds <c>kms.lock</c> for the process's life,
/// because the directory holds the node's identity and, without --db, its SQLite journal, which must never
/// have two writers.
/// </summary>
public sealed class DataDirectory(string path)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <summary>Held open without sharing while the node runs.</summary>
    public string LockFile => File("kms.lock");

    /// <summary>The node's host id (a GUID), created on first start; see <see cref="LoadOrCreateNodeId"/>.</summary>
    public string NodeIdFile => File("node-id");

    /// <summary>The SQLite journal without --db; SQLite keeps <c>kms.db-wal</c> and <c>kms.db-shm</c> beside it.</summary>
    public string JournalDatabase => File("kms.db");

    /// <summary>The client registry without --db: a SQLite file of its own, so its writes never hold the journal's
    /// one write lock.</summary>
    public string ClientRegistryDatabase => File("registry.db");

    /// <summary>The host keys this host holds an activation for (Licensing.HostKeyActivation), one key id a line.</summary>
    public string HostKeyActivationsFile => File("host-key-activations");

    /// <summary>The host's own ECDSA key pair (PKCS#8 PEM, owner-only), made on first start: the authority
    /// certifies its public half, and the node signs its answers with it.</summary>
    public string HostSigningKeyFile => File("host-signing.key");

    /// <summary>The certificates the licensing authority gave this host, one file per host key:
    /// <c>host-certificates/KEYID.json</c>.</summary>
    public string HostCertificatesDirectory => File("host-certificates");

    /// <summary>The admin API's bearer token, owner-only (0600), made at first start; see <see cref="LoadOrCreateAdminToken"/>.</summary>
    public string AdminTokenFile => File(AdminAuth.TokenFile);

    private string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Creates the directory if needed and takes its lock.</summary>
    /// <exception cref="NodeOptionsException">the directory is taken or not writable.</exception>
    public FileStream Lock()
    {
        try
        {
            Directory.CreateDirectory(Path);
            return new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new NodeOptionsException(
                $"--data: {Path} is in use by another kms-node or not writable ({e.Message.TrimEnd('.')}); one data directory serves one node");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new NodeOptionsException($"--data: {Path} is not writable ({e.Message.TrimEnd('.')})");
        }
    }

    /// <summary>The host id kept in <see cref="NodeIdFile"/>; a new one when the file is missing or unreadable.</summary>
    public Guid LoadOrCreateNodeId()
    {
        if (System.IO.File.Exists(NodeIdFile) && Guid.TryParse(System.IO.File.ReadAllText(NodeIdFile).Trim(), out var existing))
        {
            return existing;
        }
        var id = Guid.NewGuid();
        System.IO.File.WriteAllText(NodeIdFile, id + Environment.NewLine);
        return id;
    }

    /// <summary>The token kept in <see cref="AdminTokenFile"/>; a new random one (256 bits) when there is none. The
    /// file is written whole under another name, then renamed, so it is never seen half written.</summary>
    /// <exception cref="NodeOptionsException">the file holds something that is not a token.</exception>
    public string LoadOrCreateAdminToken()
    {
        if (System.IO.File.Exists(AdminTokenFile))
        {
            var existing = System.IO.File.ReadAllText(AdminTokenFile).Trim();
            return AdminAuth.IsWellFormed(existing)
                ? existing
                : throw new NodeOptionsException($"--data: {AdminTokenFile} holds no usable admin token; delete it and the node makes a new one");
        }
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var temporary = AdminTokenFile + ".tmp";
        System.IO.File.Delete(temporary); // a leftover keeps its mode; the new file must be created owner-only
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var writer = new StreamWriter(temporary, options))
        {
            writer.WriteLine(token);
        }
        System.IO.File.Move(temporary, AdminTokenFile, overwrite: false);
        return token;
    }

    /// <summary>Replaces <paramref name="file"/> (one of this directory's) with <paramref name="lines"/> in one step:
    /// a crash leaves the old file or the new one, never half of it.</summary>
    public static void ReplaceAtomically(string file, IEnumerable<string> lines)
    {
        var temporary = file + ".tmp";
        System.IO.File.WriteAllLines(temporary, lines);
        System.IO.File.Move(temporary, file, overwrite: true);
    }
}
