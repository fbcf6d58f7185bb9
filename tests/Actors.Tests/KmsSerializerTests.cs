using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using CsCheck;
using KmsCluster.Domain;
using KmsCluster.Actors.Serialization;
using KmsCluster.Actors.Tests.Serialization;
using KmsCluster.Protocol.Wire;
using static KmsCluster.Domain.Tests.TestContacts;
using static KmsCluster.Actors.Licensing.LedgerProtocol;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Tests;

public sealed class KmsSerializerTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Guid Application = Guid.Parse("55c92734-d682-4d71-983e-d6ec3f16059f");
    private static readonly DateTimeOffset At = new(2025, 6, 30, 23, 59, 59, 999, TimeSpan.FromHours(2));

    public KmsSerializerTests() : base(KmsSerialization.Config)
    {
    }

    private static readonly StoredContact[] StoredSamples =
    [
        new(Machine(1), WindowsServerProduct, "SRV-ÄÖÜ-サーバー", true, At, null),
        new(Machine(2), WindowsClientProduct, "", false, At.AddDays(-29), "PC-CLONE"),
    ];

    /// <summary>One of each type the serializer is bound to, with every optional field both set and unset.</summary>
    public static TheoryData<string, object> Samples() => new()
    {
        { "record-contacts.v1", new RecordContacts(Application, long.MaxValue,
            [Client(1, "PC-ÄÖÜ"), Server(2), Office(3) with { LicenseState = LicenseState.ExtendedGrace }]) },
        { "record-contacts.v1", new RecordContacts(Application, 0, []) },
        { "contacts-accepted.v1", new ContactsAccepted(42, At, [1, 25, 50, int.MaxValue]) },
        { "contacts-rejected.v1", new ContactsRejected(-1, "the journal is down: \"disk full\"") },
        { "get-window.v1", new GetWindow(Application) },
        { "window-view.v1", new WindowView(Application, At, 2, 50, 25, 1234567890123, 42, At.AddMinutes(-5),
            "akka.tcp://kms@node-1:4053", StoredSamples) },
        { "window-view.v1", new WindowView(Application, At, 0, 0, 0, 0, 0, null, "", []) },
        { "contacts-recorded.v1", new ContactsRecorded(At, 25,
            [new RecordedContact(Machine(1), WindowsClientProduct, "PC-1", false, null),
             new RecordedContact(Machine(2), WindowsServerProduct, "SRV-2", true, "SRV-2-OLD")], 7, 3) },
        { "window-snapshot.v1", new WindowSnapshot(5, StoredSamples, long.MaxValue, 17, At) },
        { "window-snapshot.v1", new WindowSnapshot(0, [], 0, 0, null) },
        { "activate-host.v1", new ActivateHost("k-1", Machine(7), Machine(8), "kms-ä", true, 100_000) },
        { "host-activation-result.v1", new HostActivationResult("k-1", Machine(8), HostActivationOutcome.ReactivationLimitReached,
            new HostKeyLedgerView("k-1", LedgerSamples, "akka.tcp://kms@node-1:4053")) },
        { "get-host-key-ledger.v1", new GetHostKeyLedger("windows-server-2025-demo") },
        { "host-key-ledger-view.v1", new HostKeyLedgerView("k-1", LedgerSamples, "akka.tcp://kms@node-1:4053") },
        { "host-key-ledger-view.v1", new HostKeyLedgerView("k-2", [], "") },
        { "host-activation-recorded.v1", new HostActivationRecorded(Machine(9), Machine(8), "kms-b", At, Reactivation: true) },
        { "host-key-ledger-snapshot.v1", new HostKeyLedgerSnapshot(LedgerSamples) },
        { "host-key-ledger-snapshot.v1", new HostKeyLedgerSnapshot([]) },
    };

    private static readonly LedgerHost[] LedgerSamples =
    [
        new(Machine(8), "kms-a", At.AddDays(-3), At, 9, Machine(9)),
        new(Machine(10), "", At, At, 0, Guid.Empty),
    ];

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_bound_type_round_trips_through_the_actor_system_serialization(string manifest, object message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsType<KmsSerializer>(serializer);
        Assert.Equal(KmsSerializer.SerializerId, serializer.Identifier);
        Assert.Equal(manifest, Akka.Serialization.Serialization.ManifestFor(serializer, message));

        var bytes = Sys.Serialization.Serialize(message);
        var copy = Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);

        AssertSameMessage(message, copy);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Manifests_name_the_type_and_its_format_version(string manifest, object message)
    {
        Assert.Matches(@"^[a-z-]+\.v[0-9]+$", manifest);
        Assert.Equal(manifest, Serializer.Manifest(message));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_truncated_payload_is_a_serialization_error(string manifest, object message)
    {
        var bytes = Serializer.ToBinary(message);

        for (var length = 0; length < bytes.Length; length++)
        {
            var truncated = bytes[..length];
            var error = Record.Exception(() => Serializer.FromBinary(truncated, manifest));
            Assert.True(error is SerializationException, $"{manifest} cut to {length} of {bytes.Length} bytes: {Describe(error)}");
        }
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Trailing_bytes_are_a_serialization_error(string manifest, object message)
    {
        var bytes = Serializer.ToBinary(message);

        Assert.Throws<SerializationException>(() => Serializer.FromBinary([.. bytes, 0], manifest));
    }

    /// <summary>Each array type with its element count overwritten: the count is the last field before the
    /// elements, so it sits just before the end of the same message with no elements.</summary>
    public static TheoryData<object, object, int> ArrayMessages() => new()
    {
        { new RecordContacts(Application, 1, []), new RecordContacts(Application, 1, [Client(1)]), int.MaxValue },
        { new RecordContacts(Application, 1, []), new RecordContacts(Application, 1, [Client(1)]), -1 },
        { new ContactsAccepted(1, At, []), new ContactsAccepted(1, At, [1, 2, 3]), int.MaxValue },
        // Twelve counts claimed where twelve bytes remain: the length check passes, only the reads run out.
        { new ContactsAccepted(1, At, []), new ContactsAccepted(1, At, [1, 2, 3]), 12 },
        { new ContactsAccepted(1, At, []), new ContactsAccepted(1, At, [1, 2, 3]), int.MinValue },
        { new WindowView(Application, At, 0, 0, 0, 0, 0, null, "n", []),
          new WindowView(Application, At, 0, 0, 0, 0, 0, null, "n", StoredSamples), 1 << 30 },
        { new ContactsRecorded(At, 5, [], 0, 0),
          new ContactsRecorded(At, 5, [new RecordedContact(Machine(1), OfficeProduct, "x", false, null)], 1, 0), int.MaxValue },
        { new WindowSnapshot(5, [], 1, 1, At), new WindowSnapshot(5, StoredSamples, 1, 1, At), int.MaxValue },
        { new WindowSnapshot(5, [], 1, 1, At), new WindowSnapshot(5, StoredSamples, 1, 1, At), -5 },
    };

    [Theory]
    [MemberData(nameof(ArrayMessages))]
    public void An_absurd_array_length_is_a_serialization_error(object withoutElements, object withElements, int length)
    {
        var countOffset = Serializer.ToBinary(withoutElements).Length - 4;
        var bytes = Serializer.ToBinary(withElements);
        BitConverter.TryWriteBytes(bytes.AsSpan(countOffset, 4), length);

        var error = Record.Exception(() => Serializer.FromBinary(bytes, Serializer.Manifest(withElements)));

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
        var bytes = Serializer.ToBinary(new ContactsAccepted(1, At, [1]));
        BitConverter.TryWriteBytes(bytes.AsSpan(8, 8), long.MaxValue);

        Assert.Throws<SerializationException>(() => Serializer.FromBinary(bytes, Serializer.Manifest(new ContactsAccepted(1, At, [1]))));
    }

    [Fact]
    public void An_undefined_host_activation_outcome_is_a_serialization_error()
    {
        var result = new HostActivationResult("k-1", Machine(1), HostActivationOutcome.Activated, new HostKeyLedgerView("k-1", [], ""));
        var bytes = Serializer.ToBinary(result);
        bytes[1 + 3 + 16] = 5; // after the key id ("k-1" with its length byte) and the host id

        Assert.Throws<SerializationException>(() => Serializer.FromBinary(bytes, Serializer.Manifest(result)));
    }

    [Fact]
    public void An_unknown_manifest_or_type_is_a_serialization_error()
    {
        Assert.Throws<SerializationException>(() => Serializer.FromBinary([], "record-contacts.v0"));
        Assert.Throws<SerializationException>(() => Serializer.Manifest("not a kms message"));
        Assert.Throws<SerializationException>(() => Serializer.ToBinary("not a kms message"));
    }

    [Fact]
    public void A_corrupted_payload_decodes_or_is_a_serialization_error_but_never_anything_else()
    {
        var samples = Samples().Select(row => row[1]).ToArray();
        var gen =
            from sample in Gen.Int[0, samples.Length - 1]
            from flips in Gen.Select(Gen.Int[0, 1000], Gen.Frequency((4, Gen.Byte), (1, Gen.OneOf<byte>(0x80, 0xFF, 0x7F))))
                .Array[1, 8]
            select (sample, flips);

        gen.Sample(sample =>
        {
            var message = samples[sample.sample];
            var bytes = Serializer.ToBinary(message);
            foreach (var (position, value) in sample.flips) bytes[position % bytes.Length] = value;

            var error = Record.Exception(() => Serializer.FromBinary(bytes, Serializer.Manifest(message)));

            Assert.True(error is null or SerializationException, Describe(error));
        }, iter: 3000);
    }

    [Fact]
    public void Events_and_snapshots_of_random_windows_round_trip()
    {
        KmsCluster.Domain.Tests.WindowGenerators.GenStep.Array[1, 20].Sample(steps =>
        {
            var window = new ContactWindow();
            var now = Start;
            foreach (var step in steps)
            {
                now += step.Advance;
                var recorded = window.Decide(step.Batch, now).Event;
                window.Apply(recorded);
                AssertSameMessage(recorded, Serializer.FromBinary(Serializer.ToBinary(recorded), Serializer.Manifest(recorded)));
            }
            var snapshot = window.ToSnapshot();
            AssertSameMessage(snapshot, Serializer.FromBinary(Serializer.ToBinary(snapshot), Serializer.Manifest(snapshot)));
        }, iter: 200);
    }

    private KmsSerializer Serializer => new((ExtendedActorSystem)Sys);

    private static string Describe(Exception? error) => error is null ? "no exception" : $"{error.GetType().Name}: {error.Message}";

    private static void AssertSameMessage(object expected, object? actual) => MessageAssert.Same(expected, actual);
}

/// <summary>Actor-system configuration that binds <see cref="KmsSerializer"/> the way the node does.</summary>
internal static class KmsSerialization
{
    public static readonly Config Config = ConfigurationFactory.ParseString($$"""
        akka.actor {
          serializers.kms = "{{TypeName(typeof(KmsSerializer))}}"
          serialization-bindings {
            {{string.Join("\n", KmsSerializer.BoundTypes.Select(type => $"\"{TypeName(type)}\" = kms"))}}
          }
        }
        """);

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}
