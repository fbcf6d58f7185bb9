using KmsCluster.Actors.Grants;

namespace KmsCluster.Node.Configuration;

/// <summary>The validated settings of one node. Built by <see cref="NodeOptionsReader"/> from appsettings.json,
/// KMS_* environment variables and command-line flags, in that order of precedence (flags win).</summary>
public sealed record NodeOptions
{
    public required IReadOnlyList<ListenEndpoint> Listen { get; init; }
    public required ListenEndpoint Admin { get; init; }
    public required string DataDirectory { get; init; }
    public required uint ActivationIntervalMinutes { get; init; }
    public required uint RenewalIntervalMinutes { get; init; }
    public required string HostName { get; init; }
    public required TimeSpan IdleTimeout { get; init; }
    public required int MaxRequestsPerConnection { get; init; }
    public required TimeSpan WindowTimeout { get; init; }

    /// <summary>What broken or hostile clients may take (--max-connections, --frame-timeout, --source-rate ...).</summary>
    public AbuseLimits Limits { get; init; } = AbuseLimits.Default;

    /// <summary>How long a full window's grant lasts unless renewed; zero: no grants.</summary>
    public required TimeSpan GrantLease { get; init; }

    /// <summary>Serve protocol v1 (unsigned answers) too; by default v1 requests get unsupported-version.</summary>
    public bool AllowUnsigned { get; init; }

    /// <summary>How this node's full windows hand out grants. A node on its own SQLite file is always alone, so a
    /// window's previous owner was an earlier run of this process.</summary>
    public GrantSettings Grants => GrantLease == TimeSpan.Zero
        ? GrantSettings.Disabled
        : new GrantSettings(Lease: GrantLease, SingleNode: Database is null);
    public required LogLevel LogLevel { get; init; }

    /// <summary>Where to write the ready document (--ready-file); null: none.</summary>
    public string? ReadyFile { get; init; }

    /// <summary>The structured request log (--request-log); null: off.</summary>
    public RequestLogSettings? RequestLog { get; init; }

    /// <summary>Address other nodes reach this one at (Akka.NET remoting); also where it binds.</summary>
    public required string ClusterHost { get; init; }

    /// <summary>Remoting port; 0 picks a free one (fine for nodes that are not seeds).</summary>
    public required int ClusterPort { get; init; }

    /// <summary>Seed nodes to join; empty: the node forms a cluster of its own, unless <see cref="Discovery"/> is set.</summary>
    public required IReadOnlyList<SeedNode> Seeds { get; init; }

    /// <summary>Cluster bootstrap through discovery (--discovery); null: <see cref="Seeds"/> decide.</summary>
    public ClusterDiscovery? Discovery { get; init; }

    /// <summary>PostgreSQL connection string of the shared journal; null: the node's own SQLite file.</summary>
    public required string? Database { get; init; }

    public required SplitBrainStrategy SplitBrain { get; init; }

    /// <summary>The admin API's token file (--admin-token-file); null: the data directory's own.</summary>
    public string? AdminTokenFile { get; init; }

    /// <summary>TLS with member certificates between cluster members (--cluster-tls-cert/--cluster-tls-ca); null: plain TCP.</summary>
    public ClusterTlsSettings? ClusterTls { get; init; }

    /// <summary>Record answered machines in the client registry (--client-registry); off only for comparisons.</summary>
    public bool ClientRegistry { get; init; } = true;

    /// <summary>Registry rows silent longer than this are deleted (--client-retention).</summary>
    public TimeSpan ClientRetention { get; init; } = TimeSpan.FromDays(400);

    /// <summary>Metrics pushed to an OpenTelemetry collector (--otlp-endpoint); null: only the admin port's /metrics.</summary>
    public OtlpExport? Otlp { get; init; }

    /// <summary>Catalogue, host OS, trusted authorities and host keys (checked against each other by HostLicence).</summary>
    public required NodeLicensing Licensing { get; init; }
}

/// <summary>HOST:PORT of a seed node's cluster (remoting) endpoint.</summary>
public sealed record SeedNode(string Host, int Port)
{
    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>Which side of a partition keeps running (Akka.NET's split brain resolver).</summary>
public enum SplitBrainStrategy
{
    /// <summary>The side that takes a lease in the cluster's database (the majority side tries first);
    /// right for any size, two nodes included.</summary>
    LeaseMajority,

    /// <summary>The side with more nodes (ties: the lowest address); three nodes or more.</summary>
    KeepMajority,

    /// <summary>The side with the oldest node, unless that node is alone among three or more.</summary>
    KeepOldest,
}
