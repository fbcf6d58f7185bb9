namespace KmsCluster.Node.Configuration;

/// <summary>The one description of every kms-node setting: flag, help, default, appsettings key and environment
/// variable. It drives --help, the configuration sources and the reader.</summary>
public static class NodeFlags
{
    public static readonly NodeFlag Listen = new("listen", "HOST:PORT", "0.0.0.0:1688",
        "activation endpoint; repeat for more; IPv6 as [::1]:1688; [::]:1688 and *:1688 take IPv4 and IPv6", Repeatable: true);
    public static readonly NodeFlag Admin = new("admin", "HOST:PORT", "127.0.0.1:8688", "admin HTTP endpoint");
    public static readonly NodeFlag Data = new("data", "DIR", "./data", "data directory (SQLite journal kms.db, node id)");
    public static readonly NodeFlag ActivationInterval = new("activation-interval", "DURATION", "120",
        "retry interval for clients not yet activated: minutes, or 90m, 2h, 1d (15 minutes to 30 days)");
    public static readonly NodeFlag RenewalInterval = new("renewal-interval", "DURATION", "10080",
        "renewal interval for activated clients: minutes, or 12h, 7d (15 minutes to 30 days)");
    public static readonly NodeFlag Name = new("name", "NAME", "", "host name sent in responses (default: machine name)");
    public static readonly NodeFlag IdleTimeout = new("idle-timeout", "DURATION", "60s",
        "close a connection that sent nothing for this long: seconds, or 500ms, 2m");
    public static readonly NodeFlag MaxRequestsPerConnection = new("max-requests-per-connection", "N", "256",
        "requests one connection may have in flight before the host stops reading from it");
    public static readonly NodeFlag WindowTimeout = new("window-timeout", "DURATION", "5s",
        "answer a retryable error when a window has not confirmed a contact within this time");
    public static readonly NodeFlag GrantLease = new("grant-lease", "DURATION", "30s",
        "full windows answer on every node from grants that last this long unless renewed (2s to 10m); 0 turns grants off: every contact is durable before its answer");
    public static readonly NodeFlag LogLevel = new("log-level", "LEVEL", "Information",
        "Trace, Debug (one line per activation), Information, Warning, Error");
    public static readonly NodeFlag ClusterHost = new("cluster-host", "HOST", "127.0.0.1",
        "address other nodes reach this node at (cluster traffic); the node binds it");
    public static readonly NodeFlag ClusterPort = new("cluster-port", "PORT", "0",
        "cluster (remoting) port; seed nodes need a fixed one");
    public static readonly NodeFlag Seed = new("seed", "HOST:PORT", "",
        "a seed node's cluster endpoint; repeat for each seed; needs --db; not with --discovery, which finds the members instead", Repeatable: true);
    public static readonly NodeFlag Db = new("db", "CONNECTION", "",
        "PostgreSQL connection string of the journal all nodes share (Host=..;Database=..;Username=..;Password=..); without it the node keeps its own SQLite file and stays alone");
    public static readonly NodeFlag SplitBrain = new("split-brain", "STRATEGY", "auto",
        "lease-majority (the side that takes a lease in the database survives; any cluster size), keep-majority (3+ nodes), keep-oldest; auto: lease-majority with --db");

    public static readonly NodeFlag HostKey = new("host-key", "FILE", "",
        "host key file (kms keys issue); repeat for several (e.g. a Windows and an Office key); without a valid one every activation is refused", Repeatable: true);
    public static readonly NodeFlag AuthorityKey = new("authority-key", "FILE", "",
        "public key (authority.pub) of a licensing authority whose host keys this node trusts; repeat for several", Repeatable: true);
    public static readonly NodeFlag AuthorityUrl = new("authority-url", "URL", "",
        "the licensing authority service (kms-authority) that activates this host under its keys and certifies it, for every cluster that uses a key; without it (and without --authority-keys) the cluster's ledger counts hosts and the node holds only the certificates installed with kms keys install");
    public static readonly NodeFlag AuthorityKeys = new("authority-keys", "DIR", "",
        "an authority key pair (kms keys authority-init) the node certifies itself with once the cluster's ledger confirms a key: evaluation with deploy/demo-licence only, never in production (whoever holds the private key certifies anything)");
    public static readonly NodeFlag HostOs = new("host-os", "NAME", "Windows Server 2025",
        "the host platform this node stands for, one of the catalogue's host OSes; decides which key groups it may hold");
    public static readonly NodeFlag AllowUnsigned = new("allow-unsigned", "", "false",
        "also serve protocol v1 requests, with unsigned answers (by default a node answers v1 with unsupported-version: it signs its answers, v2)", Switch: true);
    public static readonly NodeFlag ReadyFile = new("ready-file", "FILE", "",
        "once the node serves its endpoints, write a JSON document here (endpoints as bound, host id, cluster address, journal, process id) for scripts and test harnesses");
    public static readonly NodeFlag ClientRegistry = new("client-registry", "on|off", "on",
        "record every machine that got an answer in the client registry (kms clients, GET /api/v1/clients), written in the background");
    public static readonly NodeFlag ClientRetention = new("client-retention", "DURATION", "400d",
        "drop machines from the client registry once they have been silent this long (1h to 10 years)");
    public static readonly NodeFlag Catalog = new("catalog", "FILE", "",
        "product catalogue file replacing the built-in one (products, host OSes, key groups, minimum updates)");

    public static readonly IReadOnlyList<NodeFlag> All =
    [
        Listen, Admin, Data, ActivationInterval, RenewalInterval, Name, IdleTimeout, MaxRequestsPerConnection,
        WindowTimeout, GrantLease, .. LimitFlags.All, LogLevel, ClusterHost, ClusterPort, Seed, .. DiscoveryFlags.All, Db, SplitBrain, .. SecurityFlags.All, .. DnsFlags.All, HostKey,
        AuthorityKey, AuthorityUrl, AuthorityKeys, HostOs, Catalog, AllowUnsigned, ClientRegistry, ClientRetention,
        ReadyFile, .. TelemetryFlags.All, .. RequestLogFlags.All,
    ];
}
