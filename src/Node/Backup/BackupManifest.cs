using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KmsCluster.Node.Backup;

/// <summary>
/// The first entry of a backup archive (<see cref="FileName"/>): what the backup holds and each file's size and
/// SHA-256, so that a restore can tell a whole backup from a damaged one before it writes anything.
/// </summary>
/// <param name="Format">Always <see cref="CurrentFormat"/>.</param>
/// <param name="HostId">The node's id (<c>node-id</c>): the restored node is this host.</param>
/// <param name="Journal">Whether the SQLite journal (<c>kms.db</c>) is in it; false for a node with --db, whose journal
/// is in PostgreSQL.</param>
internal sealed record BackupManifest(
    string Format,
    Guid HostId,
    DateTimeOffset TakenAt,
    string Source,
    bool Journal,
    IReadOnlyList<BackupFile> Files)
{
    public const string CurrentFormat = "kmscluster-node-backup/1";
    public const string FileName = "kms-backup.json";

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, BackupJson.Default.BackupManifest);

    /// <exception cref="BackupException">not a manifest of this format.</exception>
    public static BackupManifest Parse(byte[] json)
    {
        BackupManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(json, BackupJson.Default.BackupManifest);
        }
        catch (JsonException e)
        {
            throw BackupException.NotABackup($"{FileName} is not valid JSON ({e.Message})");
        }
        if (manifest is null || manifest.Format != CurrentFormat || manifest.Files is null)
        {
            throw BackupException.NotABackup($"{FileName} is not a {CurrentFormat} manifest");
        }
        return manifest;
    }
}

/// <param name="Path">Relative to the data directory, with '/' (e.g. <c>host-certificates/KEY.json</c>).</param>
internal sealed record BackupFile(string Path, long Bytes, string Sha256)
{
    public static BackupFile Of(string relativePath, string file)
    {
        using var stream = File.OpenRead(file);
        return new BackupFile(relativePath, stream.Length, Convert.ToHexStringLower(SHA256.HashData(stream)));
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(BackupManifest))]
internal sealed partial class BackupJson : JsonSerializerContext;
