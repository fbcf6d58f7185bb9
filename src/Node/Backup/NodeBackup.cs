using System.Formats.Tar;
using KmsCluster.Node.Persistence;

namespace KmsCluster.Node.Backup;

/// <summary>
/// <c>kms-node backup</c>: one tar file with what a node needs to be restored as the same host. The SQLite
/// databases are copied with SQLite's online backup API while the node may run and write, each as of one commit
/// (<see cref="SqliteCopy"/>), and checked with <c>PRAGMA integrity_check</c>; the node's identity files (id,
/// signing key, certificates, host key activations, admin token) are copied as they are. Nothing in the data
/// directory is changed and its lock is not taken.
/// </summary>
internal static class NodeBackup
{
    /// <summary>Writes the backup of <paramref name="dataPath"/> to <paramref name="outFile"/>, which must not exist yet.</summary>
    /// <param name="identityOnly">For a node with --db: its journal and registry are in PostgreSQL (pg_dump), so only
    /// the identity files are taken, and a missing kms.db is expected.</param>
    /// <exception cref="BackupException">refused or failed; <paramref name="outFile"/> is then not written.</exception>
    public static BackupManifest Take(string dataPath, string outFile, bool identityOnly)
    {
        var data = new DataDirectory(dataPath);
        CheckSource(data, identityOnly);
        var hostId = NodeId(data);
        var target = Path.GetFullPath(outFile);
        if (File.Exists(target) || Directory.Exists(target))
        {
            throw BackupException.Refused($"--out: {target} already exists; a backup never overwrites a file");
        }
        if (Path.GetDirectoryName(target) is { } parent && !Directory.Exists(parent))
        {
            throw BackupException.Refused($"--out: directory {parent} does not exist");
        }

        var staging = target + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            Directory.CreateDirectory(staging);
            var files = new List<BackupFile>();
            // The journal first: the identity files change only on re-activations and certificate installs, and a
            // restored node that finds a key missing from host-key-activations re-activates, which is safe.
            if (!identityOnly)
            {
                files.Add(CopyDatabase(data.JournalDatabase, staging, "kms.db"));
                if (File.Exists(data.ClientRegistryDatabase))
                {
                    files.Add(CopyDatabase(data.ClientRegistryDatabase, staging, "registry.db"));
                }
            }
            foreach (var (name, file) in IdentityFiles(data))
            {
                var copy = Path.Combine(staging, name);
                Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                File.Copy(file, copy);
                files.Add(BackupFile.Of(name, copy));
            }
            var manifest = new BackupManifest(BackupManifest.CurrentFormat, hostId,
                DateTimeOffset.UtcNow, data.Path, Journal: !identityOnly, files);
            WriteArchive(staging, manifest, target);
            return manifest;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            throw BackupException.Failed($"backup of {data.Path} failed: {e.Message}");
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>The id in node-id, read without <see cref="DataDirectory.LoadOrCreateNodeId"/>: a backup writes nothing there.</summary>
    private static Guid NodeId(DataDirectory data) =>
        Guid.TryParse(File.ReadAllText(data.NodeIdFile).Trim(), out var id)
            ? id
            : throw BackupException.Refused($"--data: {data.NodeIdFile} holds no node id");

    private static void CheckSource(DataDirectory data, bool identityOnly)
    {
        if (!Directory.Exists(data.Path))
        {
            throw BackupException.Refused($"--data: {data.Path} does not exist");
        }
        if (!File.Exists(data.NodeIdFile))
        {
            throw BackupException.Refused($"--data: {data.Path} is not a kms-node data directory (no node-id)");
        }
        if (!identityOnly && !File.Exists(data.JournalDatabase))
        {
            throw BackupException.Refused(
                $"--data: {data.Path} holds no kms.db; a node with --db keeps its journal in PostgreSQL: dump that with pg_dump and back this directory up with --identity-only");
        }
    }

    /// <summary>The data directory's files that make the node this host, as (name in the backup, file): not the lock,
    /// not the databases.</summary>
    private static IEnumerable<(string Name, string File)> IdentityFiles(DataDirectory data)
    {
        foreach (var file in new[] { data.NodeIdFile, data.HostSigningKeyFile, data.HostKeyActivationsFile, data.AdminTokenFile })
        {
            if (File.Exists(file)) yield return (Path.GetFileName(file), file);
        }
        if (Directory.Exists(data.HostCertificatesDirectory))
        {
            var folder = Path.GetFileName(data.HostCertificatesDirectory);
            foreach (var file in Directory.EnumerateFiles(data.HostCertificatesDirectory, "*.json").Order(StringComparer.Ordinal))
            {
                yield return (folder + "/" + Path.GetFileName(file), file);
            }
        }
    }

    private static BackupFile CopyDatabase(string source, string staging, string name)
    {
        var copy = Path.Combine(staging, name);
        SqliteCopy.Backup(source, copy);
        if (SqliteCopy.IntegrityProblem(copy) is { } problem)
        {
            throw BackupException.Failed($"the copy of {source} failed its integrity check: {problem}");
        }
        return BackupFile.Of(name, copy);
    }

    /// <summary>The manifest first, then the files; written under a temporary name and renamed, so that
    /// <paramref name="target"/> is either a whole backup or absent. Owner-only: it holds the node's private key.</summary>
    private static void WriteArchive(string staging, BackupManifest manifest, string target)
    {
        var temporary = staging + ".tar";
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var stream = new FileStream(temporary, options))
            {
                using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
                {
                    using var json = new MemoryStream(manifest.ToJson());
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, BackupManifest.FileName) { DataStream = json });
                    foreach (var file in manifest.Files)
                    {
                        tar.WriteEntry(Path.Combine(staging, file.Path), file.Path);
                    }
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: false);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
