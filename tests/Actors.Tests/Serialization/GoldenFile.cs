using System.Runtime.CompilerServices;
using System.Text.Json;

namespace KmsCluster.Actors.Tests.Serialization;

/// <summary>One blob of a golden file: what a build wrote for a sample, under which manifest.</summary>
internal sealed record GoldenBlob(string Name, string Manifest, string Bytes)
{
    public byte[] Decode() => Convert.FromBase64String(Bytes);
}

/// <summary>The bytes one format version of the serializer writes for every <see cref="GoldenSamples"/> entry.
/// Files of earlier versions are frozen: they are what old journals and old nodes hold.</summary>
internal sealed record GoldenFile(string Version, string WrittenBy, IReadOnlyList<GoldenBlob> Blobs)
{
    /// <summary>The format version the serializer writes today: the one version whose golden data this build may
    /// write (<c>KMS_WRITE_GOLDEN=1</c>); the files of earlier versions are frozen.</summary>
    public const string CurrentVersion = "v2";

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The golden files copied beside the test assembly.</summary>
    public static IEnumerable<string> Versions() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Serialization", "golden"), "*.json")
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Order();

    public static GoldenFile Load(string version) =>
        JsonSerializer.Deserialize<GoldenFile>(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Serialization", "golden", version + ".json")), Options)
        ?? throw new InvalidDataException($"golden file {version} is empty");

    /// <summary>Writes the file into the source tree (not the build output), so it can be reviewed and committed.</summary>
    public void WriteToSourceTree() =>
        File.WriteAllText(Path.Combine(SourceDirectory(), "golden", Version + ".json"),
            JsonSerializer.Serialize(this, Options) + "\n");

    /// <summary>The test's source folder, where golden data is written to be committed.</summary>
    public static string SourceDirectory([CallerFilePath] string path = "") =>
        Path.GetDirectoryName(path) ?? throw new InvalidOperationException("no source directory");
}
