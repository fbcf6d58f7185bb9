using System.Runtime.Serialization;
using KmsCluster.Domain;
using KmsCluster.Protocol.Wire;
using static KmsCluster.Actors.Licensing.LedgerProtocol;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Serialization;

/// <summary>
/// Reads the "*.v1" manifests of the hand-written format that builds before the .proto schemas wrote, so their
/// journals, snapshots and in-flight messages still read. Read-only: nothing writes v1 any more. Layout:
/// fields in declaration order, little-endian fixed-size integers, Guids as their 16 bytes, strings as
/// length-prefixed UTF-8 (<see cref="BinaryWriter"/>), times as UTC ticks, optionals as a bool then the value,
/// arrays as an int32 count then the elements. Every field is read into a local, in layout order, before the
/// record is built.
/// </summary>
internal static class LegacyV1Reader
{
    public static bool Reads(string manifest) => manifest.EndsWith(".v1", StringComparison.Ordinal);

    public static object Read(byte[] bytes, string manifest)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
            var result = Read(reader, manifest);
            if (reader.BaseStream.Position != reader.BaseStream.Length)
            {
                throw new SerializationException($"{manifest}: {reader.BaseStream.Length - reader.BaseStream.Position} bytes left over");
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

    private static object Read(BinaryReader r, string manifest)
    {
        switch (manifest)
        {
            case "record-contacts.v1":
            {
                var application = r.ReadGuid();
                var batchId = r.ReadInt64();
                var contacts = r.ReadArray(ReadContactRequest);
                return new RecordContacts(application, batchId, contacts);
            }
            case "contacts-accepted.v1":
            {
                var batchId = r.ReadInt64();
                var at = r.ReadTime();
                var counts = r.ReadArray(x => x.ReadInt32());
                return new ContactsAccepted(batchId, at, counts);
            }
            case "contacts-rejected.v1":
            {
                var batchId = r.ReadInt64();
                var reason = r.ReadString();
                return new ContactsRejected(batchId, reason);
            }
            case "get-window.v1":
                return new GetWindow(r.ReadGuid());
            case "window-view.v1":
                return ReadWindowView(r);
            case "contacts-recorded.v1":
            {
                var at = r.ReadTime();
                var highest = r.ReadInt32();
                var requests = r.ReadInt32();
                var activated = r.ReadInt32();
                var contacts = r.ReadArray(ReadRecordedContact);
                return new ContactsRecorded(at, highest, contacts, requests, activated);
            }
            case "window-snapshot.v1":
            {
                var highest = r.ReadInt32();
                var requests = r.ReadInt64();
                var activated = r.ReadInt64();
                var last = r.ReadOptionalTime();
                var contacts = r.ReadArray(ReadStoredContact);
                return new WindowSnapshot(highest, contacts, requests, activated, last);
            }
            default:
                return ReadLedger(r, manifest);
        }
    }

    private static WindowView ReadWindowView(BinaryReader r)
    {
        var application = r.ReadGuid();
        var asOf = r.ReadTime();
        var count = r.ReadInt32();
        var capacity = r.ReadInt32();
        var highest = r.ReadInt32();
        var requests = r.ReadInt64();
        var activated = r.ReadInt64();
        var last = r.ReadOptionalTime();
        var owner = r.ReadString();
        var contacts = r.ReadArray(ReadStoredContact);
        return new WindowView(application, asOf, count, capacity, highest, requests, activated, last, owner, contacts);
    }

    private static object ReadLedger(BinaryReader r, string manifest)
    {
        switch (manifest)
        {
            case "activate-host.v1":
            {
                var keyId = r.ReadString();
                var requestId = r.ReadGuid();
                var hostId = r.ReadGuid();
                var hostName = r.ReadString();
                var reactivate = r.ReadBoolean();
                var limit = r.ReadInt32();
                return new ActivateHost(keyId, requestId, hostId, hostName, reactivate, limit);
            }
            case "host-activation-result.v1":
            {
                var keyId = r.ReadString();
                var hostId = r.ReadGuid();
                var outcome = SchemaValues.ToOutcome(r.ReadByte());
                var ledger = ReadLedgerView(r);
                return new HostActivationResult(keyId, hostId, outcome, ledger);
            }
            case "get-host-key-ledger.v1":
                return new GetHostKeyLedger(r.ReadString());
            case "host-key-ledger-view.v1":
                return ReadLedgerView(r);
            case "host-activation-recorded.v1":
            {
                var requestId = r.ReadGuid();
                var hostId = r.ReadGuid();
                var hostName = r.ReadString();
                var at = r.ReadTime();
                var reactivation = r.ReadBoolean();
                return new HostActivationRecorded(requestId, hostId, hostName, at, reactivation);
            }
            case "host-key-ledger-snapshot.v1":
                return new HostKeyLedgerSnapshot(r.ReadArray(ReadHost));
            default:
                throw new SerializationException($"KmsSerializer does not know manifest \"{manifest}\"");
        }
    }

    private static HostKeyLedgerView ReadLedgerView(BinaryReader r)
    {
        var keyId = r.ReadString();
        var owner = r.ReadString();
        var hosts = r.ReadArray(ReadHost);
        return new HostKeyLedgerView(keyId, hosts, owner);
    }

    private static LedgerHost ReadHost(BinaryReader r)
    {
        var hostId = r.ReadGuid();
        var hostName = r.ReadString();
        var first = r.ReadTime();
        var last = r.ReadTime();
        var reactivations = r.ReadInt32();
        var lastRequest = r.ReadGuid();
        return new LedgerHost(hostId, hostName, first, last, reactivations, lastRequest);
    }

    private static ContactRequest ReadContactRequest(BinaryReader r)
    {
        var machine = r.ReadGuid();
        var product = r.ReadGuid();
        var threshold = r.ReadInt32();
        var workstation = r.ReadString();
        var virtualMachine = r.ReadBoolean();
        var state = SchemaValues.ToLicenseState(r.ReadByte());
        return new ContactRequest(machine, product, threshold, workstation, virtualMachine, state);
    }

    private static RecordedContact ReadRecordedContact(BinaryReader r)
    {
        var machine = r.ReadGuid();
        var product = r.ReadGuid();
        var workstation = r.ReadString();
        var virtualMachine = r.ReadBoolean();
        var other = r.ReadBoolean() ? r.ReadString() : null;
        return new RecordedContact(machine, product, workstation, virtualMachine, other);
    }

    private static StoredContact ReadStoredContact(BinaryReader r)
    {
        var machine = r.ReadGuid();
        var product = r.ReadGuid();
        var workstation = r.ReadString();
        var virtualMachine = r.ReadBoolean();
        var lastContact = r.ReadTime();
        var other = r.ReadBoolean() ? r.ReadString() : null;
        return new StoredContact(machine, product, workstation, virtualMachine, lastContact, other);
    }

    private static Guid ReadGuid(this BinaryReader reader)
    {
        Span<byte> bytes = stackalloc byte[16];
        reader.BaseStream.ReadExactly(bytes);
        return new Guid(bytes);
    }

    private static DateTimeOffset ReadTime(this BinaryReader reader) => SchemaValues.Time(reader.ReadInt64());

    private static DateTimeOffset? ReadOptionalTime(this BinaryReader reader) => reader.ReadBoolean() ? reader.ReadTime() : null;

    private static T[] ReadArray<T>(this BinaryReader reader, Func<BinaryReader, T> read)
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
}
