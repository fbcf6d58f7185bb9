using KmsCluster.Domain;
using KmsCluster.Node.Dns;
using KmsCluster.Protocol.Wire;

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
    public required LogLevel LogLevel { get; init; }

    /// <summary>Publishing the node's SRV record in DNS (--dns-publish); <see cref="DnsPublishing.Off"/> without it.</summary>
    public DnsPublishing Dns { get; init; } = DnsPublishing.Off;

    /// <summary>Address other nodes reach this one at (Akka.NET remoting); also where it binds.</summary>
    public required string ClusterHost { get; init; }

    /// <summary>Remoting port; 0 picks a free one (fine for nodes that are not seeds).</summary>
    public required int ClusterPort { get; init; }

    /// <summary>Seed nodes to join; empty: the node forms a cluster of its own.</summary>
    public required IReadOnlyList<SeedNode> Seeds { get; init; }

    /// <summary>PostgreSQL connection string of the shared journal; null: the node's own SQLite file.</summary>
    public required string? Database { get; init; }

    public required SplitBrainStrategy SplitBrain { get; init; }

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

/// <summary>One flag of kms-node; its appsettings key and environment variable follow from its name.</summary>
/// <param name="Name">Flag name without dashes: listen, activation-interval.</param>
/// <param name="Switch">An on/off flag given without a value (--dns-publish); true or false in settings and variables.</param>
public sealed record NodeFlag(string Name, string ValueName, string Default, string Help, bool Repeatable = false, bool Switch = false)
{
    public string Flag => "--" + Name;

    /// <summary>Key in the "Kms" section of appsettings.json: ActivationInterval.</summary>
    public string SettingsKey => string.Concat(Name.Split('-').Select(part => char.ToUpperInvariant(part[0]) + part[1..]));

    /// <summary>Environment variable: KMS_ACTIVATION_INTERVAL. Repeatable flags take a comma-separated list.</summary>
    public string EnvironmentVariable => "KMS_" + Name.Replace('-', '_').ToUpperInvariant();
}

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
    public static readonly NodeFlag LogLevel = new("log-level", "LEVEL", "Information",
        "Trace, Debug (one line per activation), Information, Warning, Error");
    public static readonly NodeFlag ClusterHost = new("cluster-host", "HOST", "127.0.0.1",
        "address other nodes reach this node at (cluster traffic); the node binds it");
    public static readonly NodeFlag ClusterPort = new("cluster-port", "PORT", "0",
        "cluster (remoting) port; seed nodes need a fixed one");
    public static readonly NodeFlag Seed = new("seed", "HOST:PORT", "",
        "a seed node's cluster endpoint; repeat for each seed; needs --db", Repeatable: true);
    public static readonly NodeFlag Db = new("db", "CONNECTION", "",
        "PostgreSQL connection string of the journal all nodes share (Host=..;Database=..;Username=..;Password=..); without it the node keeps its own SQLite file and stays alone");
    public static readonly NodeFlag SplitBrain = new("split-brain", "STRATEGY", "auto",
        "lease-majority (the side that takes a lease in the database survives; any cluster size), keep-majority (3+ nodes), keep-oldest; auto: lease-majority with --db");

    public static readonly NodeFlag HostKey = new("host-key", "FILE", "",
        "host key file (kms keys issue); repeat for several (e.g. a Windows and an Office key); without a valid one every activation is refused", Repeatable: true);
    public static readonly NodeFlag AuthorityKey = new("authority-key", "FILE", "",
        "public key (authority.pub) of a licensing authority whose host keys this node trusts; repeat for several", Repeatable: true);
    public static readonly NodeFlag HostOs = new("host-os", "NAME", "Windows Server 2025",
        "the host platform this node stands for, one of the catalogue's host OSes; decides which key groups it may hold");
    public static readonly NodeFlag Catalog = new("catalog", "FILE", "",
        "product catalogue file replacing the built-in one (products, host OSes, key groups, minimum updates)");

    public static readonly IReadOnlyList<NodeFlag> All =
    [
        Listen, Admin, Data, ActivationInterval, RenewalInterval, Name, IdleTimeout, MaxRequestsPerConnection,
        WindowTimeout, LogLevel, ClusterHost, ClusterPort, Seed, Db, SplitBrain, .. DnsFlags.All, HostKey, AuthorityKey, HostOs, Catalog,
    ];
}

/// <summary>A start-up setting is wrong; the message is the one line the operator sees.</summary>
public sealed class NodeOptionsException(string message) : Exception(message);

/// <summary>Turns raw setting values into <see cref="NodeOptions"/>, with a one-line reason for each wrong value.</summary>
public static class NodeOptionsReader
{
    /// <param name="values">Raw values by flag name (without dashes); missing flags take their default.</param>
    public static NodeOptions Read(IReadOnlyDictionary<string, IReadOnlyList<string>> values)
    {
        IReadOnlyList<string> All(NodeFlag flag) =>
            values.TryGetValue(flag.Name, out var v) && v.Count > 0 ? v : [flag.Default];
        string One(NodeFlag flag) => All(flag)[^1];

        var listen = All(NodeFlags.Listen).Select(text => ListenEndpoint.Parse(text, NodeFlags.Listen.Flag)).ToArray();
        var admin = ListenEndpoint.Parse(One(NodeFlags.Admin), NodeFlags.Admin.Flag);
        var activation = DurationFlags.ParseIntervalMinutes(One(NodeFlags.ActivationInterval), NodeFlags.ActivationInterval.Flag);
        var renewal = DurationFlags.ParseIntervalMinutes(One(NodeFlags.RenewalInterval), NodeFlags.RenewalInterval.Flag);
        var data = One(NodeFlags.Data).Trim();
        if (data.Length == 0)
        {
            throw new NodeOptionsException($"{NodeFlags.Data.Flag}: the data directory must not be empty");
        }
        var name = One(NodeFlags.Name).Trim();
        if (name.Length == 0)
        {
            name = Environment.MachineName;
        }
        if (System.Text.Encoding.UTF8.GetByteCount(name) > ProtocolConstants.MaxNameBytes || name.Any(char.IsControl))
        {
            throw new NodeOptionsException($"{NodeFlags.Name.Flag}: a host name is at most {ProtocolConstants.MaxNameBytes} UTF-8 bytes without control characters");
        }
        var idle = DurationFlags.Parse(One(NodeFlags.IdleTimeout), NodeFlags.IdleTimeout.Flag, defaultUnit: "s");
        if (idle < TimeSpan.FromSeconds(1) || idle > TimeSpan.FromDays(1))
        {
            throw new NodeOptionsException($"{NodeFlags.IdleTimeout.Flag}: must be between 1s and 1d, got {One(NodeFlags.IdleTimeout)}");
        }
        var windowTimeout = DurationFlags.Parse(One(NodeFlags.WindowTimeout), NodeFlags.WindowTimeout.Flag, defaultUnit: "s");
        if (windowTimeout < TimeSpan.FromMilliseconds(100) || windowTimeout > TimeSpan.FromMinutes(5))
        {
            throw new NodeOptionsException($"{NodeFlags.WindowTimeout.Flag}: must be between 100ms and 5m, got {One(NodeFlags.WindowTimeout)}");
        }
        var maxRequestsText = One(NodeFlags.MaxRequestsPerConnection).Trim();
        if (!int.TryParse(maxRequestsText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var maxRequests) ||
            maxRequests < 1 || maxRequests > 65536)
        {
            throw new NodeOptionsException($"{NodeFlags.MaxRequestsPerConnection.Flag}: must be a whole number from 1 to 65536, got \"{maxRequestsText}\"");
        }
        if (!Enum.TryParse<LogLevel>(One(NodeFlags.LogLevel).Trim(), ignoreCase: true, out var logLevel) ||
            !Enum.IsDefined(logLevel) || int.TryParse(One(NodeFlags.LogLevel), out _))
        {
            throw new NodeOptionsException($"{NodeFlags.LogLevel.Flag}: \"{One(NodeFlags.LogLevel)}\" is not one of Trace, Debug, Information, Warning, Error, Critical, None");
        }
        var dns = DnsPublishing.Read(All, One);
        var (clusterHost, clusterPort, seeds, database, splitBrain) = ReadCluster(All, One);
        var licensing = NodeLicensing.Read(All, One);
        var endpoints = listen.Append(admin).ToArray();
        var clash = endpoints.Where(e => e.Port != 0).GroupBy(e => e).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
        {
            throw new NodeOptionsException($"{clash.Key} is configured twice (activation and admin endpoints must differ)");
        }

        return new NodeOptions
        {
            Listen = listen,
            Admin = admin,
            DataDirectory = Path.GetFullPath(data),
            ActivationIntervalMinutes = activation,
            RenewalIntervalMinutes = renewal,
            HostName = name,
            IdleTimeout = idle,
            MaxRequestsPerConnection = maxRequests,
            WindowTimeout = windowTimeout,
            LogLevel = logLevel,
            Dns = dns,
            ClusterHost = clusterHost,
            ClusterPort = clusterPort,
            Seeds = seeds,
            Database = database,
            SplitBrain = splitBrain,
            Licensing = licensing,
        };
    }

    private static (string Host, int Port, IReadOnlyList<SeedNode> Seeds, string? Database, SplitBrainStrategy SplitBrain)
        ReadCluster(Func<NodeFlag, IReadOnlyList<string>> all, Func<NodeFlag, string> one)
    {
        var host = one(NodeFlags.ClusterHost).Trim();
        if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || c is '/' or '@'))
        {
            throw new NodeOptionsException($"{NodeFlags.ClusterHost.Flag}: \"{host}\" is not a host name or address");
        }
        var portText = one(NodeFlags.ClusterPort).Trim();
        if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) ||
            port > 65535)
        {
            throw new NodeOptionsException($"{NodeFlags.ClusterPort.Flag}: \"{portText}\" is not a port from 0 to 65535");
        }
        var seeds = all(NodeFlags.Seed).Where(s => s.Trim().Length > 0).Select(ParseSeed).ToArray();

        var databaseText = one(NodeFlags.Db).Trim();
        string? database = null;
        if (databaseText.Length > 0)
        {
            database = PostgresConnection.Validate(databaseText, NodeFlags.Db.Flag);
        }
        if (seeds.Length > 0 && database is null)
        {
            throw new NodeOptionsException(
                $"{NodeFlags.Seed.Flag}: joining a cluster needs {NodeFlags.Db.Flag}: the nodes of a cluster share one PostgreSQL journal, and a node's SQLite file must never have a second writer");
        }

        var splitBrain = one(NodeFlags.SplitBrain).Trim().ToLowerInvariant() switch
        {
            "lease-majority" when database is null => throw new NodeOptionsException(
                $"{NodeFlags.SplitBrain.Flag}: lease-majority keeps its lease in the cluster's database; it needs {NodeFlags.Db.Flag}"),
            "lease-majority" => SplitBrainStrategy.LeaseMajority,
            "keep-majority" => SplitBrainStrategy.KeepMajority,
            "keep-oldest" => SplitBrainStrategy.KeepOldest,
            "auto" or "" => database is null ? SplitBrainStrategy.KeepMajority : SplitBrainStrategy.LeaseMajority,
            var other => throw new NodeOptionsException(
                $"{NodeFlags.SplitBrain.Flag}: \"{other}\" is not one of lease-majority, keep-majority, keep-oldest, auto"),
        };
        return (host, port, seeds, database, splitBrain);
    }

    private static SeedNode ParseSeed(string text)
    {
        var trimmed = text.Trim();
        var colon = trimmed.LastIndexOf(':');
        var host = colon > 0 ? trimmed[..colon] : "";
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':'))
        {
            host = ""; // an IPv6 address without brackets
        }
        if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || c is '/' or '@' or '[' or ']') ||
            !int.TryParse(trimmed[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) ||
            port is < 1 or > 65535)
        {
            throw new NodeOptionsException(
                $"{NodeFlags.Seed.Flag}: \"{text}\" is not HOST:PORT with a fixed port (examples: 10.0.0.5:4053, kms-a.corp.example:4053, [fd00::5]:4053)");
        }
        return new SeedNode(host, port);
    }
}

/// <summary>Duration flags: <see cref="Durations"/> with the flag's name on a wrong value.</summary>
public static class DurationFlags
{
    public static TimeSpan Parse(string text, string flag, string defaultUnit) =>
        Durations.TryParse(text, defaultUnit, out var duration, out var error) ? duration : throw new NodeOptionsException($"{flag}: {error}");

    /// <summary>An activation or renewal interval: whole minutes between 15 minutes and 30 days.</summary>
    public static uint ParseIntervalMinutes(string text, string flag)
    {
        var duration = Parse(text, flag, defaultUnit: "m");
        var minutes = duration.TotalMinutes;
        if (minutes != Math.Floor(minutes))
        {
            throw new NodeOptionsException($"{flag}: \"{text}\" is not a whole number of minutes");
        }
        if (minutes > uint.MaxValue || !ActivationPolicy.IsValidInterval((uint)minutes))
        {
            throw new NodeOptionsException(
                $"{flag}: {minutes} minutes is outside {KmsModel.MinIntervalMinutes} minutes to 30 days ({KmsModel.MaxIntervalMinutes} minutes)");
        }
        return (uint)minutes;
    }
}
