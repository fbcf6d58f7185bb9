using Akka.Actor;
using KmsCluster.Actors.Serialization;

namespace KmsCluster.Actors.Tests.Serialization;

/// <summary>
/// Journals and nodes of older builds hold bytes of older format versions: every golden file (one per version,
/// frozen once a newer version exists) must keep reading back to its samples. The current version's file is also
/// compared with what the serializer writes today, so a format change cannot slip in unnoticed.
/// To write the current version's file (a new version, or new samples):
/// <c>KMS_WRITE_GOLDEN=1 dotnet test tests/Actors.Tests -c Release --filter FullyQualifiedName~GoldenFormatTests</c>.
/// </summary>
public sealed class GoldenFormatTests() : Akka.TestKit.Xunit2.TestKit(KmsSerialization.Config)
{
    /// <summary>Stored in the file, for the reader of it: which writer made the current version's bytes.</summary>
    private const string CurrentWriter = "KmsSerializer v2: Protocol Buffers, src/Actors/Serialization/Protos/*.proto";

    private KmsSerializer Serializer => new((ExtendedActorSystem)Sys);

    public static TheoryData<string, string> GoldenBlobs()
    {
        var rows = new TheoryData<string, string>();
        foreach (var version in GoldenFile.Versions())
        {
            foreach (var blob in GoldenFile.Load(version).Blobs) rows.Add(version, blob.Name);
        }
        return rows;
    }

    [Theory]
    [MemberData(nameof(GoldenBlobs))]
    public void Every_golden_blob_reads_back_to_its_sample(string version, string name)
    {
        var blob = GoldenFile.Load(version).Blobs.Single(b => b.Name == name);

        var read = Sys.Serialization.Deserialize(blob.Decode(), KmsSerializer.SerializerId, blob.Manifest);

        MessageAssert.Same(GoldenSamples.Named(name), read);
    }

    [Fact]
    public void The_current_version_writes_exactly_its_golden_file()
    {
        var current = new GoldenFile(GoldenFile.CurrentVersion, CurrentWriter,
            GoldenSamples.All.Select(s => new GoldenBlob(s.Name, Serializer.Manifest(s.Value),
                Convert.ToBase64String(Serializer.ToBinary(s.Value)))).ToArray());
        if (Environment.GetEnvironmentVariable("KMS_WRITE_GOLDEN") == "1")
        {
            current.WriteToSourceTree();
            return;
        }

        var golden = GoldenFile.Load(GoldenFile.CurrentVersion);

        Assert.Equal(current.Blobs, golden.Blobs);
    }

    [Fact]
    public void The_samples_cover_every_bound_type()
    {
        var bound = KmsSerializer.BoundTypes
            .SelectMany(type => type.IsInterface
                ? type.Assembly.GetTypes().Where(t => t.IsClass && !t.IsAbstract && t.IsAssignableTo(type))
                : [type])
            .ToHashSet();

        Assert.Equal(bound.OrderBy(t => t.Name), GoldenSamples.All.Select(s => s.Value.GetType()).Distinct().OrderBy(t => t.Name));
    }
}
