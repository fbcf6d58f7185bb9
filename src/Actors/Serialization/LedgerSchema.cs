using System.Runtime.Serialization;
using Google.Protobuf;
using KmsCluster.Domain;
using static KmsCluster.Actors.Licensing.LedgerProtocol;
using static KmsCluster.Actors.Serialization.SchemaValues;
using P = KmsCluster.Actors.Serialization.Protos;

namespace KmsCluster.Actors.Serialization;

/// <summary>The host activation ledger's messages, event and snapshot in their current format (Protos/ledger.proto).</summary>
internal static class LedgerSchema
{
    private const string ActivateHostManifest = "activate-host.v2";
    private const string HostActivationResultManifest = "host-activation-result.v2";
    private const string GetHostKeyLedgerManifest = "get-host-key-ledger.v2";
    private const string HostKeyLedgerViewManifest = "host-key-ledger-view.v2";
    private const string HostActivationRecordedManifest = "host-activation-recorded.v2";
    private const string HostKeyLedgerSnapshotManifest = "host-key-ledger-snapshot.v2";

    public static string? Manifest(object o) => o switch
    {
        ActivateHost => ActivateHostManifest,
        HostActivationResult => HostActivationResultManifest,
        GetHostKeyLedger => GetHostKeyLedgerManifest,
        HostKeyLedgerView => HostKeyLedgerViewManifest,
        HostActivationRecorded => HostActivationRecordedManifest,
        HostKeyLedgerSnapshot => HostKeyLedgerSnapshotManifest,
        _ => null,
    };

    public static IMessage? ToProto(object o) => o switch
    {
        ActivateHost m => ToProto(m),
        HostActivationResult m => ToProto(m),
        GetHostKeyLedger m => new P.GetHostKeyLedger { KeyId = m.KeyId },
        HostKeyLedgerView m => ToProto(m),
        HostActivationRecorded e => ToProto(e),
        HostKeyLedgerSnapshot s => new P.HostKeyLedgerSnapshot { Hosts = { s.Hosts.Select(ToProto) } },
        _ => null,
    };

    public static object? Read(string manifest, byte[] bytes) => manifest switch
    {
        ActivateHostManifest => FromProto(P.ActivateHost.Parser.ParseFrom(bytes)),
        HostActivationResultManifest => FromProto(P.HostActivationResult.Parser.ParseFrom(bytes)),
        GetHostKeyLedgerManifest => new GetHostKeyLedger(P.GetHostKeyLedger.Parser.ParseFrom(bytes).KeyId),
        HostKeyLedgerViewManifest => FromProto(P.HostKeyLedgerView.Parser.ParseFrom(bytes)),
        HostActivationRecordedManifest => FromProto(P.HostActivationRecorded.Parser.ParseFrom(bytes)),
        HostKeyLedgerSnapshotManifest => new HostKeyLedgerSnapshot(ReadHosts(P.HostKeyLedgerSnapshot.Parser.ParseFrom(bytes).Hosts)),
        _ => null,
    };

    private static P.ActivateHost ToProto(ActivateHost m)
    {
        var (requestLow, requestHigh) = Split(m.RequestId);
        var (hostLow, hostHigh) = Split(m.HostId);
        return new P.ActivateHost
        {
            KeyId = m.KeyId, RequestIdLow = requestLow, RequestIdHigh = requestHigh, HostIdLow = hostLow, HostIdHigh = hostHigh,
            HostName = m.HostName, Reactivate = m.Reactivate, HostLimit = m.HostLimit,
        };
    }

    private static ActivateHost FromProto(P.ActivateHost proto) =>
        new(proto.KeyId, Join(proto.RequestIdLow, proto.RequestIdHigh), Join(proto.HostIdLow, proto.HostIdHigh), proto.HostName,
            proto.Reactivate, proto.HostLimit);

    private static P.HostActivationResult ToProto(HostActivationResult m)
    {
        var (hostLow, hostHigh) = Split(m.HostId);
        return new P.HostActivationResult
        {
            KeyId = m.KeyId, HostIdLow = hostLow, HostIdHigh = hostHigh, Outcome = (P.HostActivationOutcome)m.Outcome,
            Ledger = ToProto(m.Ledger),
        };
    }

    private static HostActivationResult FromProto(P.HostActivationResult proto) =>
        new(proto.KeyId, Join(proto.HostIdLow, proto.HostIdHigh), ToOutcome((int)proto.Outcome),
            FromProto(proto.Ledger ?? throw new SerializationException("host activation result without its ledger")));

    private static P.HostKeyLedgerView ToProto(HostKeyLedgerView m) =>
        new() { KeyId = m.KeyId, Owner = m.Owner, Hosts = { m.Hosts.Select(ToProto) } };

    private static HostKeyLedgerView FromProto(P.HostKeyLedgerView proto) => new(proto.KeyId, ReadHosts(proto.Hosts), proto.Owner);

    private static P.HostActivationRecorded ToProto(HostActivationRecorded e)
    {
        var (requestLow, requestHigh) = Split(e.RequestId);
        var (hostLow, hostHigh) = Split(e.HostId);
        return new P.HostActivationRecorded
        {
            RequestIdLow = requestLow, RequestIdHigh = requestHigh, HostIdLow = hostLow, HostIdHigh = hostHigh,
            HostName = e.HostName, AtUtcTicks = e.At.UtcTicks, Reactivation = e.Reactivation,
        };
    }

    private static HostActivationRecorded FromProto(P.HostActivationRecorded proto) =>
        new(Join(proto.RequestIdLow, proto.RequestIdHigh), Join(proto.HostIdLow, proto.HostIdHigh), proto.HostName,
            Time(proto.AtUtcTicks), proto.Reactivation);

    private static P.LedgerHost ToProto(LedgerHost host)
    {
        var (hostLow, hostHigh) = Split(host.HostId);
        var (requestLow, requestHigh) = Split(host.LastRequestId);
        return new P.LedgerHost
        {
            HostIdLow = hostLow, HostIdHigh = hostHigh, HostName = host.HostName,
            FirstActivatedAtUtcTicks = host.FirstActivatedAt.UtcTicks, LastActivatedAtUtcTicks = host.LastActivatedAt.UtcTicks,
            Reactivations = host.Reactivations, LastRequestIdLow = requestLow, LastRequestIdHigh = requestHigh,
        };
    }

    private static LedgerHost[] ReadHosts(IReadOnlyList<P.LedgerHost> hosts) =>
        hosts.Select(h => new LedgerHost(Join(h.HostIdLow, h.HostIdHigh), h.HostName, Time(h.FirstActivatedAtUtcTicks),
            Time(h.LastActivatedAtUtcTicks), h.Reactivations, Join(h.LastRequestIdLow, h.LastRequestIdHigh))).ToArray();
}
