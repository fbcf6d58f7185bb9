using KmsCluster.Domain;
using KmsCluster.Protocol.Wire;
using static KmsCluster.Domain.Tests.TestContacts;
using static KmsCluster.Actors.Licensing.LedgerProtocol;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Tests.Serialization;

/// <summary>
/// Named instances of every type the serializer is bound to, edge cases included (empty arrays, unset optionals,
/// the other-workstation flag, extreme values, non-ASCII names). The golden files store their bytes under these
/// names: a sample's value must never change once a golden file holds it; add new samples under new names.
/// </summary>
internal static class GoldenSamples
{
    private static readonly Guid Application = Guid.Parse("55c92734-d682-4d71-983e-d6ec3f16059f");
    private static readonly Guid AllOnes = Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff");
    private static readonly DateTimeOffset At = new(2025, 6, 30, 23, 59, 59, 999, TimeSpan.FromHours(2));
    private static readonly DateTimeOffset Latest = new(DateTimeOffset.MaxValue.UtcTicks, TimeSpan.Zero);
    private static readonly DateTimeOffset Earliest = new(DateTimeOffset.MinValue.UtcTicks, TimeSpan.Zero);
    private const string Owner = "akka.tcp://kms@node-1:4053";

    private static readonly StoredContact[] Stored =
    [
        new(Machine(1), WindowsServerProduct, "SRV-ÄÖÜ-サーバー", true, At, null),
        new(Machine(2), WindowsClientProduct, "", false, At.AddDays(-29), "PC-CLONE"),
        new(AllOnes, Guid.Empty, "PC-😀", false, Latest, "ÉCOLE-PC"),
    ];

    private static readonly LedgerHost[] Hosts =
    [
        new(Machine(8), "kms-a", At.AddDays(-3), At, 9, Machine(9)),
        new(Machine(10), "", Earliest, Latest, int.MaxValue, Guid.Empty),
        new(AllOnes, "kms-ñ-北京", At, At, 0, AllOnes),
    ];

    private static HostKeyLedgerView View => new("k-1", Hosts, Owner);

    /// <summary>Sample name and value; names are stable keys into the golden files.</summary>
    public static readonly IReadOnlyList<(string Name, object Value)> All =
    [
        ("record-contacts", new RecordContacts(Application, long.MaxValue,
        [
            Client(1, "PC-ÄÖÜ"), Server(2), Office(3) with { LicenseState = LicenseState.ExtendedGrace },
            new ContactRequest(AllOnes, Guid.Empty, int.MaxValue, "", true, LicenseState.NonGenuineGrace),
            Client(4, "ノートPC") with { Threshold = int.MinValue, LicenseState = LicenseState.Notification },
        ])),
        ("record-contacts-empty", new RecordContacts(Guid.Empty, long.MinValue, [])),
        ("record-contacts-answered", new RecordContacts(Application, 7, [Server(2), Office(3)], Answered: true)),
        ("record-contacts-traced", new RecordContacts(Application, 8, [Client(5, "PC-5"), Server(6), Office(7)])
        {
            Traces =
            [
                new TraceContext("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
                new TraceContext("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", null),
            ],
        }),
        ("contacts-accepted", new ContactsAccepted(42, At, [1, 25, 50, int.MaxValue, 0, -1])),
        ("contacts-accepted-empty", new ContactsAccepted(long.MaxValue, Latest, [])),
        ("contacts-rejected", new ContactsRejected(-1, "the journal is down: \"disk full\" — réessayez")),
        ("contacts-rejected-empty-reason", new ContactsRejected(long.MaxValue, "")),
        ("window-grant", new WindowGrant(Application, 1234, 50, 25, At, At.AddDays(30), TimeSpan.FromSeconds(30))),
        ("window-grant-extremes", new WindowGrant(Guid.Empty, long.MaxValue, int.MaxValue, 0, Earliest, Latest, TimeSpan.MaxValue)),
        ("revoke-grants", new RevokeGrants(Application, 1234)),
        ("grants-revoked", new GrantsRevoked(Application, long.MaxValue, "akka.tcp://kms@127.0.0.1:4053")),
        ("grants-revoked-empty-node", new GrantsRevoked(Guid.Empty, 0, "")),
        ("get-window", new GetWindow(Application)),
        ("get-window-empty-id", new GetWindow(Guid.Empty)),
        ("window-view", new WindowView(Application, At, 3, 50, 25, long.MaxValue, 42, At.AddMinutes(-5), Owner, Stored)),
        ("window-view-empty", new WindowView(Application, Earliest, 0, 0, 0, 0, 0, null, "", [])),
        ("contacts-recorded", new ContactsRecorded(At, 25,
        [
            new RecordedContact(Machine(1), WindowsClientProduct, "PC-1", false, null),
            new RecordedContact(Machine(2), WindowsServerProduct, "SRV-2", true, "SRV-2-OLD"),
            new RecordedContact(AllOnes, Guid.Empty, "ПК-Ω", false, ""),
            new RecordedContact(Machine(3), OfficeProduct, "", true, "旧-名前"),
        ], 7, 3)),
        ("contacts-recorded-empty", new ContactsRecorded(Latest, int.MaxValue, [], int.MaxValue, 0)),
        ("window-snapshot", new WindowSnapshot(5, Stored, long.MaxValue, 17, At)),
        ("window-snapshot-empty", new WindowSnapshot(0, [], 0, 0, null)),
        ("activate-host", new ActivateHost("k-1", Machine(7), Machine(8), "kms-ä", true, 100_000)),
        ("activate-host-edge", new ActivateHost("", Guid.Empty, AllOnes, "", false, int.MaxValue)),
        ("host-activation-result", new HostActivationResult("k-1", Machine(8), HostActivationOutcome.ReactivationLimitReached, View)),
        ("host-activation-result-empty", new HostActivationResult("k-2", Guid.Empty, HostActivationOutcome.Activated,
            new HostKeyLedgerView("k-2", [], ""))),
        ("get-host-key-ledger", new GetHostKeyLedger("windows-server-2025-demo")),
        ("get-host-key-ledger-empty", new GetHostKeyLedger("")),
        ("host-key-ledger-view", View),
        ("host-key-ledger-view-empty", new HostKeyLedgerView("k-2", [], "")),
        ("host-activation-recorded", new HostActivationRecorded(Machine(9), Machine(8), "kms-b", At, Reactivation: true)),
        ("host-activation-recorded-edge", new HostActivationRecorded(Guid.Empty, AllOnes, "サーバー", Earliest, Reactivation: false)),
        ("host-key-ledger-snapshot", new HostKeyLedgerSnapshot(Hosts)),
        ("host-key-ledger-snapshot-empty", new HostKeyLedgerSnapshot([])),
    ];

    public static object Named(string name) =>
        All.Single(sample => sample.Name == name).Value;
}
