using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Google.Protobuf;
using KmsCluster.Domain;

namespace KmsCluster.Actors.Serialization;

/// <summary>
/// Everything KmsCluster journals, snapshots or sends between nodes, as Protocol Buffers messages whose schemas
/// live in Serialization/Protos (window.proto, ledger.proto; code generated at build time). The domain keeps its
/// own records; <see cref="WindowSchema"/> and <see cref="LedgerSchema"/> map them to and from the generated
/// messages. Each manifest names its format version: "*.v2" is written; the hand-written "*.v1" format of older
/// builds stays readable (<see cref="LegacyV1Reader"/>), so their journals keep recovering.
/// </summary>
public sealed class KmsSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 1688;

    /// <summary>The types this serializer is bound to (messages, the events and the snapshots).</summary>
    public static readonly Type[] BoundTypes =
    [
        typeof(IKmsMessage), typeof(ContactsRecorded), typeof(WindowSnapshot),
        typeof(HostActivationRecorded), typeof(HostKeyLedgerSnapshot),
    ];

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        WindowSchema.Manifest(o) ?? LedgerSchema.Manifest(o) ?? throw CannotWrite(o);

    public override byte[] ToBinary(object obj) =>
        (WindowSchema.ToProto(obj) ?? LedgerSchema.ToProto(obj) ?? throw CannotWrite(obj)).ToByteArray();

    public override object FromBinary(byte[] bytes, string manifest)
    {
        try
        {
            return WindowSchema.Read(manifest, bytes)
                ?? LedgerSchema.Read(manifest, bytes)
                ?? (LegacyV1Reader.Reads(manifest) ? LegacyV1Reader.Read(bytes, manifest) : null)
                ?? throw new SerializationException($"KmsSerializer does not know manifest \"{manifest}\"");
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new SerializationException($"{manifest}: malformed payload ({e.Message})", e);
        }
    }

    private static SerializationException CannotWrite(object o) => new($"KmsSerializer cannot write {o.GetType()}");
}
