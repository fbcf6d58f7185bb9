using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using CsCheck;
using Google.Protobuf;
using KmsCluster.Domain;
using KmsCluster.Actors.Serialization;
using KmsCluster.Actors.Tests.Serialization;
using static KmsCluster.Domain.Tests.TestContacts;
using static KmsCluster.Actors.Licensing.LedgerProtocol;
using static KmsCluster.Actors.Windows.WindowProtocol;
using P = KmsCluster.Actors.Serialization.Protos;

namespace KmsCluster.Actors.Tests;

/// <summary>The current format (v2, the .proto schemas). The v1 format that older builds wrote is covered by
/// <see cref="LegacyV1ReaderTests"/> and the golden files.</summary>
public sealed class KmsSerializerTests : Akka.TestKit.Xunit2.TestKit
{
    private static readonly DateTimeOffset At = new(2025, 6, 30, 23, 59, 59, 999, TimeSpan.FromHours(2));

    public KmsSerializerTests() : base(KmsSerialization.Config)
    {
    }

    private static readonly Dictionary<Type, string> ManifestOf = new()
    {
        [typeof(RecordContacts)] = "record-contacts.v2",
        [typeof(ContactsAccepted)] = "contacts-accepted.v2",
        [typeof(ContactsRejected)] = "contacts-rejected.v2",
        [typeof(WindowGrant)] = "window-grant.v2",
        [typeof(RevokeGrants)] = "revoke-grants.v2",
        [typeof(GrantsRevoked)] = "grants-revoked.v2",
        [typeof(GetWindow)] = "get-window.v2",
        [typeof(WindowView)] = "window-view.v2",
        [typeof(ContactsRecorded)] = "contacts-recorded.v2",
        [typeof(WindowSnapshot)] = "window-snapshot.v2",
        [typeof(ActivateHost)] = "activate-host.v2",
        [typeof(HostActivationResult)] = "host-activation-result.v2",
        [typeof(GetHostKeyLedger)] = "get-host-key-ledger.v2",
        [typeof(HostKeyLedgerView)] = "host-key-ledger-view.v2",
        [typeof(HostActivationRecorded)] = "host-activation-recorded.v2",
        [typeof(HostKeyLedgerSnapshot)] = "host-key-ledger-snapshot.v2",
    };

    /// <summary>The golden samples: each bound type, with every optional field both set and unset.</summary>
    public static TheoryData<string, object> Samples()
    {
        var rows = new TheoryData<string, object>();
        foreach (var (_, value) in GoldenSamples.All) rows.Add(ManifestOf[value.GetType()], value);
        return rows;
    }

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

        MessageAssert.Same(message, copy);
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
    public void A_truncated_payload_decodes_or_is_a_serialization_error(string manifest, object message)
    {
        // Protocol Buffers has no end marker: a cut at a field boundary is a shorter valid message (the journal and
        // the transport deliver whole payloads). A cut inside a field must be a clear error.
        var bytes = Serializer.ToBinary(message);

        for (var length = 0; length < bytes.Length; length++)
        {
            var error = Record.Exception(() => Serializer.FromBinary(bytes[..length], manifest));
            Assert.True(error is null or SerializationException, $"{manifest} cut to {length} of {bytes.Length} bytes: {Describe(error)}");
        }
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void A_trailing_zero_byte_is_a_serialization_error(string manifest, object message)
    {
        // Field number 0 is invalid in every schema.
        Assert.Throws<SerializationException>(() => Serializer.FromBinary([.. Serializer.ToBinary(message), 0], manifest));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Fields_a_newer_build_added_are_ignored(string manifest, object message)
    {
        // A newer node's message with a field this build does not know (number 1000, a varint and a string).
        var newer = new MemoryStream();
        using (var output = new CodedOutputStream(newer, leaveOpen: true))
        {
            output.WriteTag(1000, WireFormat.WireType.Varint);
            output.WriteInt64(42);
            output.WriteTag(1001, WireFormat.WireType.LengthDelimited);
            output.WriteString("from the future");
        }

        var read = Serializer.FromBinary([.. Serializer.ToBinary(message), .. newer.ToArray()], manifest);

        MessageAssert.Same(message, read);
    }

    public static TheoryData<string, byte[]> OutOfRangeValues() => new()
    {
        { "contacts-accepted.v2", new P.ContactsAccepted { RecordedAtUtcTicks = long.MaxValue }.ToByteArray() },
        { "contacts-recorded.v2", new P.ContactsRecorded { RecordedAtUtcTicks = -1 }.ToByteArray() },
        { "window-view.v2", new P.WindowView { LastRecordedAtUtcTicks = DateTimeOffset.MaxValue.UtcTicks + 1 }.ToByteArray() },
        { "window-snapshot.v2",
            new P.WindowSnapshot { Contacts = { new P.StoredContact { LastContactUtcTicks = long.MinValue } } }.ToByteArray() },
        { "host-activation-recorded.v2", new P.HostActivationRecorded { AtUtcTicks = long.MaxValue }.ToByteArray() },
        { "record-contacts.v2",
            new P.RecordContacts { Contacts = { new P.ContactRequest { LicenseState = (P.LicenseState)7 } } }.ToByteArray() },
        { "record-contacts.v2",
            new P.RecordContacts { Contacts = { new P.ContactRequest { LicenseState = (P.LicenseState)(-1) } } }.ToByteArray() },
        { "host-activation-result.v2", new P.HostActivationResult
            { Outcome = (P.HostActivationOutcome)5, Ledger = new P.HostKeyLedgerView() }.ToByteArray() },
        { "host-activation-result.v2", new P.HostActivationResult { KeyId = "k-1" }.ToByteArray() }, // no ledger
    };

    [Theory]
    [MemberData(nameof(OutOfRangeValues))]
    public void A_value_the_domain_cannot_hold_is_a_serialization_error(string manifest, byte[] bytes)
    {
        var error = Record.Exception(() => Serializer.FromBinary(bytes, manifest));

        Assert.True(error is SerializationException, Describe(error));
    }

    [Fact]
    public void An_unknown_manifest_or_type_is_a_serialization_error()
    {
        Assert.Throws<SerializationException>(() => Serializer.FromBinary([], "record-contacts.v0"));
        Assert.Throws<SerializationException>(() => Serializer.FromBinary([], "record-contacts.v3"));
        Assert.Throws<SerializationException>(() => Serializer.FromBinary([], "something-else.v1"));
        Assert.Throws<SerializationException>(() => Serializer.Manifest("not a kms message"));
        Assert.Throws<SerializationException>(() => Serializer.ToBinary("not a kms message"));
    }

    [Fact]
    public void A_corrupted_payload_decodes_or_is_a_serialization_error_but_never_anything_else()
    {
        var samples = GoldenSamples.All.Select(s => s.Value).ToArray();
        var gen =
            from sample in Gen.Int[0, samples.Length - 1]
            from flips in Gen.Select(Gen.Int[0, 1000], Gen.Frequency((4, Gen.Byte), (1, Gen.OneOf<byte>(0x80, 0xFF, 0x7F))))
                .Array[1, 8]
            select (sample, flips);

        gen.Sample(sample =>
        {
            var message = samples[sample.sample];
            var bytes = Serializer.ToBinary(message);
            if (bytes.Length == 0) return; // every field at its default: nothing to flip
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
                MessageAssert.Same(recorded, Serializer.FromBinary(Serializer.ToBinary(recorded), Serializer.Manifest(recorded)));
            }
            var snapshot = window.ToSnapshot();
            MessageAssert.Same(snapshot, Serializer.FromBinary(Serializer.ToBinary(snapshot), Serializer.Manifest(snapshot)));
        }, iter: 200);
    }

    private KmsSerializer Serializer => new((ExtendedActorSystem)Sys);

    private static string Describe(Exception? error) => error is null ? "no exception" : $"{error.GetType().Name}: {error.Message}";
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
