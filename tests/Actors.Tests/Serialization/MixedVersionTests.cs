using Akka.Actor;
using Google.Protobuf;
using KmsCluster.Actors.Serialization;

namespace KmsCluster.Actors.Tests.Serialization;

/// <summary>
/// During a rolling upgrade old and new nodes exchange messages and recover each other's journals, in both
/// directions. Backwards (a new build reads what the old one wrote) is <see cref="GoldenFormatTests"/>: every
/// frozen golden file reads back. Forwards (the old build reads what the next one writes) rests on the versioning
/// rule of docs/architecture.md: within a manifest version the next build may only add fields, and today's reader
/// must skip them. These tests write that next build's bytes (today's golden blobs with fields no schema has) and
/// read them with today's serializer.
/// </summary>
public sealed class MixedVersionTests() : Akka.TestKit.Xunit2.TestKit(KmsSerialization.Config)
{
    public static TheoryData<string> CurrentBlobs() =>
        [.. GoldenFile.Load(GoldenFile.CurrentVersion).Blobs.Select(b => b.Name)];

    [Theory]
    [MemberData(nameof(CurrentBlobs))]
    public void The_current_reader_skips_fields_a_later_build_adds(string name)
    {
        var blob = GoldenFile.Load(GoldenFile.CurrentVersion).Blobs.Single(b => b.Name == name);
        var later = blob.Decode().Concat(FieldsNoSchemaHas()).ToArray();

        var read = Sys.Serialization.Deserialize(later, KmsSerializer.SerializerId, blob.Manifest);

        MessageAssert.Same(GoldenSamples.Named(name), read);
    }

    [Fact]
    public void Every_type_is_written_under_a_manifest_of_the_current_version()
    {
        var serializer = new KmsSerializer((ExtendedActorSystem)Sys);
        Assert.All(GoldenSamples.All, sample =>
            Assert.EndsWith("." + GoldenFile.CurrentVersion, serializer.Manifest(sample.Value), StringComparison.Ordinal));
    }

    /// <summary>A varint, a fixed64, a string and a nested message under field numbers far above any in use:
    /// what a later build's new fields look like on the wire.</summary>
    private static byte[] FieldsNoSchemaHas()
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(1001, WireFormat.WireType.Varint);
        output.WriteUInt64(ulong.MaxValue);
        output.WriteTag(1002, WireFormat.WireType.Fixed64);
        output.WriteFixed64(0x0123456789abcdef);
        output.WriteTag(1003, WireFormat.WireType.LengthDelimited);
        output.WriteString("added-by-a-later-build");
        output.WriteTag(1004, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(0x08, 0x2a, 0x12, 0x01, 0x78)); // { 1: 42, 2: "x" }
        output.Flush();
        return stream.ToArray();
    }
}
