using KmsCluster.Protocol.Admin;

namespace KmsCluster.Protocol.Tests.Support;

/// <summary>One of each admin API document with every field set (no nulls), so its JSON shows every name.</summary>
internal static class AdminSamples
{
    private static readonly Guid Host = Guid.Parse("0c8a3d5e-2b7f-4e61-9a04-5d3b1f6e7a28");
    private static readonly DateTimeOffset At = new(2025, 6, 3, 8, 30, 0, TimeSpan.Zero);
    private const string Node = "akka.tcp://kms-1a2b@10.0.0.2:4053";

    public static DnsStatusJson Dns => new(true, "published", "10.0.0.2:53", "corp.example", "_vlmcs._tcp.corp.example",
        "kms1.corp.example", 1688, 0, 100, 3600, 86400, ["10.0.0.11"], "kms-update", "hmac-sha256",
        "_vlmcs._tcp.corp.example. 3600 IN SRV 0 100 1688 kms1.corp.example.", 3, 1, 0, At, At, At, "update refused (REFUSED)", At);

    public static HealthJson Health => new("ok", "kms1", Host, "Up", "licensed", ["k-old: expired"]) { Dns = Dns };

    public static KeyJson Key => new("k-windows", "Windows Server 2025 volume licence", "Contoso", At, At, 6, 9,
        "0123456789abcdef0123456789abcdef", "/etc/kmscluster/w.json", "active", "ok", "confirmed");

    public static HostJson HostDocument => new("kms1", Host, new HostOsJson("Windows Server 2025", "server"), "built-in",
        "licensed", ["none"], [new AuthorityJson("0123456789abcdef0123456789abcdef", "/etc/kmscluster/authority.pub")],
        [Key], ["windows-11-pro"], Dns);

    public static IReadOnlyList<HostKeyLedgerJson> HostKeys =>
        [new(Key, [new LedgerHostJson(Host, "kms1", At, At, 2, true)], Node, "ledger unavailable, retry later")];

    public static ReactivationJson Reactivation => new("k-windows", "reactivated", 3, 9, 2, 6);

    public static WindowsJson Windows => new(
    [
        new("office", Guid.Parse("6b2f1a3c-5d4e-4f60-8a71-92b3c4d5e6f7"), "Office", 2, 10, 5,
            [new ThresholdJson("office", 5, false)], 3, 0, 3, At, Node, At,
            [new ContactJson(Host, "office-2019-standard", "Office Standard 2019", "LAB-PC-02", "LAB-PC-01", true, At)]),
    ], [new UnreachableWindowJson("windows", "window unavailable, retry later: Ask timed out")]);

    public static ClusterJson Cluster => new(Node, "Up", Node, Node, "postgresql", "keep-majority",
        [new MemberJson(Node, "Up", ["kms"], true, true, true)], [new WindowOwnerJson("windows", Node)]);

    public static StatsJson Stats => new("kms1", Host, At, 10, 1, 6, 3,
        new Dictionary<string, long> { ["licensed"] = 9 }, new Dictionary<string, long> { ["clock-skew"] = 1 },
        new RequestLogJson("/var/log/kms/requests.log", 100 << 20, 5, 10, 0, 0, 1),
        new ClientRegistryStatsJson(true, 3, 6, 0, At),
        new LimitsJson(12, 1, 40, 2, 5, 300, 0, 7, 3));

    public static NodeJson NodeDocument => new("kms1", Host, "1.0.0", ["0.0.0.0:1688"], "127.0.0.1:8688", "akka.tcp://kms@10.0.0.5:4053",
        "sqlite", 120, 10080, At, 3600.5, "stdout");

    public static ClientJson Client => new(Host, "LAB-PC-02", "office", "office-2019-standard", true, At, At, 5, true,
        At.AddDays(180), "kms1", true);

    public static ClientsPageJson Clients => new([Client], "MTcz");

    public static ClientMachineJson Machine => new(Host, true, [Client, Client with { Workstation = "LAB-PC-01" }]);

    public static ErrorJson Error => new("unknown application \"solitaire\"; known: windows, office");
}
