using System.Runtime.Serialization;
using Akka.Actor;
using CsCheck;
using KmsCluster.Actors.Serialization;

namespace KmsCluster.Actors.Tests.Serialization;

/// <summary>The read-only v1 format stays as strict as it was when it was written: every damaged v1 payload, built
/// from the golden v1 bytes, is a <see cref="SerializationException"/> (journals of older builds may hold them).</summary>
public sealed class LegacyV1ReaderTests() : Akka.TestKit.Xunit2.TestKit(KmsSerialization.Config)
{
    private static readonly GoldenFile V1 = GoldenFile.Load("v1");

    private KmsSerializer Serializer => new((ExtendedActorSystem)Sys);

    public static TheoryData<string> Blobs() => new(V1.Blobs.Select(b => b.Name));

    private static GoldenBlob Blob(string name) => V1.Blobs.Single(b => b.Name == name);

    [Theory]
    [MemberData(nameof(Blobs))]
    public void Every_truncated_payload_is_a_serialization_error(string name)
    {
        var blob = Blob(name);
        var bytes = blob.Decode();

        for (var length = 0; length < bytes.Length; length++)
        {
            var error = Record.Exception(() => Serializer.FromBinary(bytes[..length], blob.Manifest));
            Assert.True(error is SerializationException, $"{name} cut to {length} of {bytes.Length} bytes: {Describe(error)}");
        }
    }

    [Theory]
    [MemberData(nameof(Blobs))]
    public void Trailing_bytes_are_a_serialization_error(string name)
    {
        var blob = Blob(name);

        Assert.Throws<SerializationException>(() => Serializer.FromBinary([.. blob.Decode(), 0], blob.Manifest));
    }

    /// <summary>A sample with elements, where its element count sits in the v1 layout, and a count to put there.</summary>
    [Theory]
    [InlineData("record-contacts", 24, int.MaxValue)]
    [InlineData("record-contacts", 24, -1)]
    [InlineData("contacts-accepted", 16, int.MaxValue)]
    // More counts claimed than fit in what remains, but fewer than its bytes: the length check passes, the reads run out.
    [InlineData("contacts-accepted", 16, 24)]
    [InlineData("contacts-accepted", 16, int.MinValue)]
    [InlineData("window-view", 88, 1 << 30)]
    [InlineData("contacts-recorded", 20, int.MaxValue)]
    [InlineData("window-snapshot", 29, int.MaxValue)]
    [InlineData("window-snapshot", 29, -5)]
    [InlineData("host-key-ledger-view", 31, int.MaxValue)]
    [InlineData("host-key-ledger-snapshot", 0, -1)]
    public void An_absurd_array_length_is_a_serialization_error(string name, int countOffset, int count)
    {
        var blob = Blob(name);
        var bytes = blob.Decode();
        Assert.Equal(ElementCount(GoldenSamples.Named(name)), BitConverter.ToInt32(bytes, countOffset)); // the offset is right
        BitConverter.TryWriteBytes(bytes.AsSpan(countOffset, 4), count);

        var error = Record.Exception(() => Serializer.FromBinary(bytes, blob.Manifest));

        Assert.True(error is SerializationException, Describe(error));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })] // a negative length
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 })] // a length longer than 7-bit encoding allows
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x07 })] // int.MaxValue
    public void A_corrupt_string_length_is_a_serialization_error(byte[] length)
    {
        // contacts-rejected: the batch id, then the reason as a length-prefixed string.
        byte[] bytes = [.. BitConverter.GetBytes(7L), .. length, .. "reason"u8];

        var error = Record.Exception(() => Serializer.FromBinary(bytes, "contacts-rejected.v1"));

        Assert.True(error is SerializationException, Describe(error));
    }

    [Fact]
    public void A_time_out_of_range_is_a_serialization_error()
    {
        var blob = Blob("contacts-accepted");
        var bytes = blob.Decode();
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 8), long.MaxValue); // after the batch id

        Assert.Throws<SerializationException>(() => Serializer.FromBinary(bytes, blob.Manifest));
    }

    [Theory]
    [InlineData("host-activation-result-empty", 1 + 3 + 16, 5)] // after the key id ("k-2" with its length byte) and the host id
    [InlineData("record-contacts", 16 + 8 + 4 + 16 + 16 + 4 + 1 + 9 + 1, 7)] // the first contact's licence state
    public void An_undefined_enum_value_is_a_serialization_error(string name, int offset, byte value)
    {
        var blob = Blob(name);
        var bytes = blob.Decode();
        bytes[offset] = value;

        Assert.Throws<SerializationException>(() => Serializer.FromBinary(bytes, blob.Manifest));
    }

    [Fact]
    public void A_corrupted_payload_decodes_or_is_a_serialization_error_but_never_anything_else()
    {
        var gen =
            from blob in Gen.Int[0, V1.Blobs.Count - 1]
            from flips in Gen.Select(Gen.Int[0, 1000], Gen.Frequency((4, Gen.Byte), (1, Gen.OneOf<byte>(0x80, 0xFF, 0x7F))))
                .Array[1, 8]
            select (blob, flips);

        gen.Sample(sample =>
        {
            var blob = V1.Blobs[sample.blob];
            var bytes = blob.Decode();
            foreach (var (position, value) in sample.flips) bytes[position % bytes.Length] = value;

            var error = Record.Exception(() => Serializer.FromBinary(bytes, blob.Manifest));

            Assert.True(error is null or SerializationException, Describe(error));
        }, iter: 3000);
    }

    private static int ElementCount(object sample) => sample switch
    {
        KmsCluster.Actors.Windows.WindowProtocol.RecordContacts m => m.Contacts.Length,
        KmsCluster.Actors.Windows.WindowProtocol.ContactsAccepted m => m.Counts.Length,
        KmsCluster.Actors.Windows.WindowProtocol.WindowView m => m.Contacts.Length,
        KmsCluster.Domain.ContactsRecorded e => e.Contacts.Count,
        KmsCluster.Domain.WindowSnapshot s => s.Contacts.Count,
        KmsCluster.Actors.Licensing.LedgerProtocol.HostKeyLedgerView v => v.Hosts.Length,
        KmsCluster.Domain.HostKeyLedgerSnapshot s => s.Hosts.Count,
        _ => throw new ArgumentException($"{sample.GetType()} has no array"),
    };

    private static string Describe(Exception? error) => error is null ? "no exception" : $"{error.GetType().Name}: {error.Message}";
}
