using KmsCluster.Domain;
using static KmsCluster.Actors.Licensing.LedgerProtocol;

namespace KmsCluster.Actors.Serialization;

/// <summary>The host activation ledger's messages, event and snapshot, in the same binary style as the windows'.</summary>
public sealed partial class KmsSerializer
{
    private const string ActivateHostManifest = "activate-host.v1";
    private const string HostActivationResultManifest = "host-activation-result.v1";
    private const string GetHostKeyLedgerManifest = "get-host-key-ledger.v1";
    private const string HostKeyLedgerViewManifest = "host-key-ledger-view.v1";
    private const string HostActivationRecordedManifest = "host-activation-recorded.v1";
    private const string HostKeyLedgerSnapshotManifest = "host-key-ledger-snapshot.v1";

    private static string? LedgerManifest(object o) => o switch
    {
        ActivateHost => ActivateHostManifest,
        HostActivationResult => HostActivationResultManifest,
        GetHostKeyLedger => GetHostKeyLedgerManifest,
        HostKeyLedgerView => HostKeyLedgerViewManifest,
        HostActivationRecorded => HostActivationRecordedManifest,
        HostKeyLedgerSnapshot => HostKeyLedgerSnapshotManifest,
        _ => null,
    };

    private static bool TryWriteLedger(BinaryWriter writer, object obj)
    {
        switch (obj)
        {
            case ActivateHost m:
                writer.Write(m.KeyId);
                writer.Write(m.RequestId);
                writer.Write(m.HostId);
                writer.Write(m.HostName);
                writer.Write(m.Reactivate);
                writer.Write(m.HostLimit);
                return true;
            case HostActivationResult m:
                writer.Write(m.KeyId);
                writer.Write(m.HostId);
                writer.Write((byte)m.Outcome);
                WriteView(writer, m.Ledger);
                return true;
            case GetHostKeyLedger m:
                writer.Write(m.KeyId);
                return true;
            case HostKeyLedgerView m:
                WriteView(writer, m);
                return true;
            case HostActivationRecorded e:
                writer.Write(e.RequestId);
                writer.Write(e.HostId);
                writer.Write(e.HostName);
                writer.Write(e.At);
                writer.Write(e.Reactivation);
                return true;
            case HostKeyLedgerSnapshot s:
                WriteHosts(writer, s.Hosts);
                return true;
            default:
                return false;
        }
    }

    private static object? ReadLedger(BinaryReader reader, string manifest) => manifest switch
    {
        // Arguments are evaluated left to right, so each constructor call reads the fields in order.
        ActivateHostManifest => new ActivateHost(reader.ReadString(), reader.ReadGuid(), reader.ReadGuid(), reader.ReadString(),
            reader.ReadBoolean(), reader.ReadInt32()),
        HostActivationResultManifest => new HostActivationResult(reader.ReadString(), reader.ReadGuid(), ReadOutcome(reader),
            ReadView(reader)),
        GetHostKeyLedgerManifest => new GetHostKeyLedger(reader.ReadString()),
        HostKeyLedgerViewManifest => ReadView(reader),
        HostActivationRecordedManifest => new HostActivationRecorded(reader.ReadGuid(), reader.ReadGuid(), reader.ReadString(),
            reader.ReadTime(), reader.ReadBoolean()),
        HostKeyLedgerSnapshotManifest => new HostKeyLedgerSnapshot(reader.ReadArray(ReadHost)),
        _ => null,
    };

    private static void WriteView(BinaryWriter writer, HostKeyLedgerView view)
    {
        writer.Write(view.KeyId);
        writer.Write(view.Owner);
        WriteHosts(writer, view.Hosts);
    }

    private static HostKeyLedgerView ReadView(BinaryReader reader)
    {
        var keyId = reader.ReadString();
        var owner = reader.ReadString();
        return new HostKeyLedgerView(keyId, reader.ReadArray(ReadHost), owner);
    }

    private static void WriteHosts(BinaryWriter writer, IReadOnlyList<LedgerHost> hosts)
    {
        writer.Write(hosts.Count);
        foreach (var host in hosts)
        {
            writer.Write(host.HostId);
            writer.Write(host.HostName);
            writer.Write(host.FirstActivatedAt);
            writer.Write(host.LastActivatedAt);
            writer.Write(host.Reactivations);
            writer.Write(host.LastRequestId);
        }
    }

    private static LedgerHost ReadHost(BinaryReader reader) =>
        new(reader.ReadGuid(), reader.ReadString(), reader.ReadTime(), reader.ReadTime(), reader.ReadInt32(), reader.ReadGuid());

    private static HostActivationOutcome ReadOutcome(BinaryReader reader)
    {
        var value = reader.ReadByte();
        return Enum.IsDefined((HostActivationOutcome)value)
            ? (HostActivationOutcome)value
            : throw new System.Runtime.Serialization.SerializationException($"host activation outcome {value} is not defined");
    }
}
