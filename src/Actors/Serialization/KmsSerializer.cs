using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using KmsCluster.Domain;
using KmsCluster.Protocol.Wire;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Serialization;

/// <summary>
/// Explicit binary format for everything KmsCluster journals, snapshots or sends between nodes. Each type has
/// a manifest that names its format version; a new layout gets a new manifest and the old reader stays, so
/// journals written by older builds keep recovering. Layout: little-endian fixed-size fields, strings as
/// length-prefixed UTF-8 (<see cref="BinaryWriter"/>), times as UTC ticks.
/// </summary>
public sealed partial class KmsSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 1688;

    /// <summary>The types this serializer is bound to (messages, the event and the snapshot).</summary>
    public static readonly Type[] BoundTypes =
    [
        typeof(IKmsMessage), typeof(ContactsRecorded), typeof(WindowSnapshot),
        typeof(HostActivationRecorded), typeof(HostKeyLedgerSnapshot),
    ];

    private const string RecordContactsManifest = "record-contacts.v1";
    private const string ContactsAcceptedManifest = "contacts-accepted.v1";
    private const string ContactsRejectedManifest = "contacts-rejected.v1";
    private const string GetWindowManifest = "get-window.v1";
    private const string WindowViewManifest = "window-view.v1";
    private const string ContactsRecordedManifest = "contacts-recorded.v1";
    private const string WindowSnapshotManifest = "window-snapshot.v1";

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => o switch
    {
        RecordContacts => RecordContactsManifest,
        ContactsAccepted => ContactsAcceptedManifest,
        ContactsRejected => ContactsRejectedManifest,
        GetWindow => GetWindowManifest,
        WindowView => WindowViewManifest,
        ContactsRecorded => ContactsRecordedManifest,
        WindowSnapshot => WindowSnapshotManifest,
        _ => LedgerManifest(o) ?? throw new SerializationException($"KmsSerializer cannot write {o.GetType()}"),
    };

    public override byte[] ToBinary(object obj)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            switch (obj)
            {
                case RecordContacts m:
                    writer.Write(m.ApplicationId);
                    writer.Write(m.BatchId);
                    writer.Write(m.Contacts.Length);
                    foreach (var c in m.Contacts) writer.Write(c);
                    break;
                case ContactsAccepted m:
                    writer.Write(m.BatchId);
                    writer.Write(m.RecordedAt);
                    writer.Write(m.Counts.Length);
                    foreach (var count in m.Counts) writer.Write(count);
                    break;
                case ContactsRejected m:
                    writer.Write(m.BatchId);
                    writer.Write(m.Reason);
                    break;
                case GetWindow m:
                    writer.Write(m.ApplicationId);
                    break;
                case WindowView m:
                    writer.Write(m.ApplicationId);
                    writer.Write(m.AsOf);
                    writer.Write(m.Count);
                    writer.Write(m.Capacity);
                    writer.Write(m.HighestThreshold);
                    writer.Write(m.Requests);
                    writer.Write(m.Activated);
                    writer.WriteOptional(m.LastRecordedAt);
                    writer.Write(m.Owner);
                    writer.Write(m.Contacts.Length);
                    foreach (var c in m.Contacts) writer.Write(c);
                    break;
                case ContactsRecorded e:
                    writer.Write(e.RecordedAt);
                    writer.Write(e.HighestThreshold);
                    writer.Write(e.Requests);
                    writer.Write(e.Activated);
                    writer.Write(e.Contacts.Count);
                    foreach (var c in e.Contacts) writer.Write(c);
                    break;
                case WindowSnapshot s:
                    writer.Write(s.HighestThreshold);
                    writer.Write(s.Requests);
                    writer.Write(s.Activated);
                    writer.WriteOptional(s.LastRecordedAt);
                    writer.Write(s.Contacts.Count);
                    foreach (var c in s.Contacts) writer.Write(c);
                    break;
                default:
                    if (!TryWriteLedger(writer, obj))
                    {
                        throw new SerializationException($"KmsSerializer cannot write {obj.GetType()}");
                    }
                    break;
            }
        }
        return stream.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
            // Arguments are evaluated left to right, so each constructor call reads the fields in order.
            object result = manifest switch
            {
                RecordContactsManifest => new RecordContacts(reader.ReadGuid(), reader.ReadInt64(),
                    reader.ReadArray(r => r.ReadContactRequest())),
                ContactsAcceptedManifest => new ContactsAccepted(reader.ReadInt64(), reader.ReadTime(),
                    reader.ReadArray(r => r.ReadInt32())),
                ContactsRejectedManifest => new ContactsRejected(reader.ReadInt64(), reader.ReadString()),
                GetWindowManifest => new GetWindow(reader.ReadGuid()),
                WindowViewManifest => new WindowView(reader.ReadGuid(), reader.ReadTime(), reader.ReadInt32(),
                    reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64(),
                    reader.ReadOptionalTime(), reader.ReadString(), reader.ReadArray(r => r.ReadStoredContact())),
                ContactsRecordedManifest => ReadContactsRecorded(reader),
                WindowSnapshotManifest => ReadWindowSnapshot(reader),
                _ => ReadLedger(reader, manifest) ?? throw new SerializationException($"KmsSerializer does not know manifest \"{manifest}\""),
            };
            if (reader.BaseStream.Position != reader.BaseStream.Length)
            {
                throw new SerializationException(
                    $"{manifest}: {reader.BaseStream.Length - reader.BaseStream.Position} bytes left over");
            }
            return result;
        }
        catch (EndOfStreamException e)
        {
            throw new SerializationException($"{manifest}: truncated", e);
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
            // BinaryReader.ReadString on a corrupt length prefix: negative (IOException) or overlong (FormatException).
            throw new SerializationException($"{manifest}: malformed string ({e.Message})", e);
        }
    }

    private static ContactsRecorded ReadContactsRecorded(BinaryReader reader)
    {
        var at = reader.ReadTime();
        var highest = reader.ReadInt32();
        var requests = reader.ReadInt32();
        var activated = reader.ReadInt32();
        var contacts = reader.ReadArray(r => r.ReadRecordedContact());
        return new ContactsRecorded(at, highest, contacts, requests, activated);
    }

    private static WindowSnapshot ReadWindowSnapshot(BinaryReader reader)
    {
        var highest = reader.ReadInt32();
        var requests = reader.ReadInt64();
        var activated = reader.ReadInt64();
        var last = reader.ReadOptionalTime();
        var contacts = reader.ReadArray(r => r.ReadStoredContact());
        return new WindowSnapshot(highest, contacts, requests, activated, last);
    }
}

internal static class BinaryFormat
{
    public static void Write(this BinaryWriter writer, Guid value)
    {
        Span<byte> bytes = stackalloc byte[16];
        value.TryWriteBytes(bytes);
        writer.Write(bytes);
    }

    public static Guid ReadGuid(this BinaryReader reader)
    {
        Span<byte> bytes = stackalloc byte[16];
        reader.BaseStream.ReadExactly(bytes);
        return new Guid(bytes);
    }

    public static void Write(this BinaryWriter writer, DateTimeOffset value) => writer.Write(value.UtcTicks);

    public static DateTimeOffset ReadTime(this BinaryReader reader)
    {
        var ticks = reader.ReadInt64();
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            throw new SerializationException($"time ticks {ticks} out of range");
        }
        return new DateTimeOffset(ticks, TimeSpan.Zero);
    }

    public static void WriteOptional(this BinaryWriter writer, DateTimeOffset? value)
    {
        writer.Write(value.HasValue);
        if (value.HasValue) writer.Write(value.Value);
    }

    public static DateTimeOffset? ReadOptionalTime(this BinaryReader reader) =>
        reader.ReadBoolean() ? reader.ReadTime() : null;

    public static void WriteOptional(this BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null) writer.Write(value);
    }

    public static string? ReadOptionalString(this BinaryReader reader) =>
        reader.ReadBoolean() ? reader.ReadString() : null;

    public static T[] ReadArray<T>(this BinaryReader reader, Func<BinaryReader, T> read)
    {
        var length = reader.ReadInt32();
        // Every element takes at least one byte: a larger length is a corrupt or hostile payload.
        if (length < 0 || length > reader.BaseStream.Length - reader.BaseStream.Position)
        {
            throw new SerializationException($"array length {length} does not fit the payload");
        }
        var items = new T[length];
        for (var i = 0; i < length; i++) items[i] = read(reader);
        return items;
    }

    public static void Write(this BinaryWriter writer, in ContactRequest c)
    {
        writer.Write(c.ClientMachineId);
        writer.Write(c.ProductId);
        writer.Write(c.Threshold);
        writer.Write(c.Workstation);
        writer.Write(c.IsVirtualMachine);
        writer.Write((byte)c.LicenseState);
    }

    public static ContactRequest ReadContactRequest(this BinaryReader reader) =>
        new(reader.ReadGuid(), reader.ReadGuid(), reader.ReadInt32(), reader.ReadString(), reader.ReadBoolean(),
            reader.ReadLicenseState());

    private static LicenseState ReadLicenseState(this BinaryReader reader)
    {
        var state = reader.ReadByte();
        return LicenseStates.IsDefined(state) ? (LicenseState)state
            : throw new SerializationException($"licence state {state} is not defined");
    }

    public static void Write(this BinaryWriter writer, in RecordedContact c)
    {
        writer.Write(c.ClientMachineId);
        writer.Write(c.ProductId);
        writer.Write(c.Workstation);
        writer.Write(c.IsVirtualMachine);
        writer.WriteOptional(c.OtherWorkstation);
    }

    public static RecordedContact ReadRecordedContact(this BinaryReader reader) =>
        new(reader.ReadGuid(), reader.ReadGuid(), reader.ReadString(), reader.ReadBoolean(), reader.ReadOptionalString());

    public static void Write(this BinaryWriter writer, StoredContact c)
    {
        writer.Write(c.ClientMachineId);
        writer.Write(c.ProductId);
        writer.Write(c.Workstation);
        writer.Write(c.IsVirtualMachine);
        writer.Write(c.LastContact);
        writer.WriteOptional(c.OtherWorkstation);
    }

    public static StoredContact ReadStoredContact(this BinaryReader reader) =>
        new(reader.ReadGuid(), reader.ReadGuid(), reader.ReadString(), reader.ReadBoolean(), reader.ReadTime(),
            reader.ReadOptionalString());
}
