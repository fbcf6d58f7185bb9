using System.Formats.Tar;
using KmsCluster.Node.Persistence;

namespace KmsCluster.Node.Backup;

/// <summary>
/// <c>kms-node restore</c>: a backup of <see cref="NodeBackup"/> into a new data directory. The archive is unpacked
/// beside the target and checked whole (every file of the manifest, its size and SHA-256, nothing else, SQLite's
/// integrity check) before it is renamed into place, so a damaged backup leaves nothing behind, and an existing
/// directory with anything in it is never touched.
/// </summary>
internal static class NodeRestore
{
    /// <exception cref="BackupException">refused, not a backup, or failed; <paramref name="dataPath"/> is then unchanged.</exception>
    public static BackupManifest Restore(string backupFile, string dataPath)
    {
        var data = new DataDirectory(dataPath);
        var source = Path.GetFullPath(backupFile);
        if (!File.Exists(source))
        {
            throw BackupException.Refused($"--from: {source} does not exist");
        }
        if (Directory.Exists(data.Path) && Directory.EnumerateFileSystemEntries(data.Path).Any())
        {
            throw BackupException.Refused($"--data: {data.Path} is not empty; restore into a new directory (nothing was changed)");
        }
        if (File.Exists(data.Path))
        {
            throw BackupException.Refused($"--data: {data.Path} is a file");
        }

        var staging = data.Path.TrimEnd(Path.DirectorySeparatorChar) + ".restoring-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            Directory.CreateDirectory(staging);
            var manifest = Unpack(source, staging);
            Check(manifest, staging);
            foreach (var secret in new[] { data.HostSigningKeyFile, data.AdminTokenFile })
            {
                var file = Path.Combine(staging, Path.GetFileName(secret));
                if (File.Exists(file) && !OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }
            if (Directory.Exists(data.Path))
            {
                Directory.Delete(data.Path); // empty, checked above; fails rather than lose anything written since
            }
            Directory.Move(staging, data.Path);
            return manifest;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw BackupException.Failed($"restore into {data.Path} failed: {e.Message}");
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Extracts the regular files of the archive into <paramref name="staging"/> and returns its manifest.</summary>
    private static BackupManifest Unpack(string source, string staging)
    {
        BackupManifest? manifest = null;
        try
        {
            using var stream = File.OpenRead(source);
            using var tar = new TarReader(stream);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                {
                    throw BackupException.NotABackup($"{source}: entry {entry.Name} is not a regular file");
                }
                if (entry.Name == BackupManifest.FileName)
                {
                    using var json = new MemoryStream();
                    entry.DataStream?.CopyTo(json);
                    manifest = BackupManifest.Parse(json.ToArray());
                    continue;
                }
                entry.ExtractToFile(InsideStaging(staging, entry.Name, source), overwrite: false);
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or ArgumentException)
        {
            throw BackupException.NotABackup($"{source} is not a kms-node backup (not a readable tar archive: {e.Message.TrimEnd('.')})");
        }
        return manifest ?? throw BackupException.NotABackup($"{source} is not a kms-node backup (no {BackupManifest.FileName} in it)");
    }

    /// <summary>Where an archive entry goes; refuses names that would leave the directory (absolute, "..").</summary>
    private static string InsideStaging(string staging, string name, string source)
    {
        var path = Path.GetFullPath(Path.Combine(staging, name));
        if (!path.StartsWith(staging + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw BackupException.NotABackup($"{source}: entry {name} points outside the data directory");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    /// <summary>Every file the manifest lists is there, whole and unchanged, nothing more; the databases pass SQLite's check.</summary>
    private static void Check(BackupManifest manifest, string staging)
    {
        var listed = manifest.Files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var present = Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(staging, f).Replace(Path.DirectorySeparatorChar, '/'))
            .ToList();
        if (present.FirstOrDefault(f => !listed.Contains(f)) is { } extra)
        {
            throw BackupException.NotABackup($"the backup holds {extra}, which its manifest does not list");
        }
        foreach (var expected in manifest.Files)
        {
            var file = Path.Combine(staging, expected.Path);
            if (!File.Exists(file))
            {
                throw BackupException.NotABackup($"the backup lacks {expected.Path} (truncated?)");
            }
            if (BackupFile.Of(expected.Path, file) != expected)
            {
                throw BackupException.NotABackup($"{expected.Path} in the backup is damaged: its size or SHA-256 differs from the manifest's");
            }
        }
        if (!listed.Contains("node-id"))
        {
            throw BackupException.NotABackup("the backup has no node-id");
        }
        if (manifest.Journal && !listed.Contains("kms.db"))
        {
            throw BackupException.NotABackup("the manifest says the journal is in the backup, but kms.db is not");
        }
        foreach (var database in new[] { "kms.db", "registry.db" }.Where(listed.Contains))
        {
            if (SqliteCopy.IntegrityProblem(Path.Combine(staging, database)) is { } problem)
            {
                throw BackupException.NotABackup($"{database} in the backup fails SQLite's integrity check: {problem}");
            }
        }
    }
}
