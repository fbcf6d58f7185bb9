using KmsCluster.Domain;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Node.Configuration;

/// <summary>Turns raw setting values into <see cref="NodeOptions"/>, with a one-line reason for each wrong value.</summary>
public static class NodeOptionsReader
{
    /// <param name="values">Raw values by flag name (without dashes); missing flags take their default.</param>
    public static NodeOptions Read(IReadOnlyDictionary<string, IReadOnlyList<string>> values) => Read(new NodeSettings(values));

    /// <summary>Parses every value (format errors), then checks the settings against each other
    /// (<see cref="NodeOptionsValidation"/>); the first problem is thrown.</summary>
    public static NodeOptions Read(NodeSettings settings)
    {
        var options = Parse(settings);
        var result = new NodeOptionsValidation().Validate(null, options);
        return result.Failed ? throw new NodeOptionsException(result.Failures.First()) : options;
    }

    private static NodeOptions Parse(NodeSettings settings)
    {
        var All = settings.All;
        var One = settings.One;

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
        var grantLease = DurationFlags.Parse(One(NodeFlags.GrantLease), NodeFlags.GrantLease.Flag, defaultUnit: "s");
        if (grantLease != TimeSpan.Zero && (grantLease < TimeSpan.FromSeconds(2) || grantLease > TimeSpan.FromMinutes(10)))
        {
            throw new NodeOptionsException($"{NodeFlags.GrantLease.Flag}: must be 0 (off) or between 2s and 10m, got {One(NodeFlags.GrantLease)}");
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
        var (clusterHost, clusterPort, seeds, database, splitBrain) = ReadCluster(settings);
        var licensing = NodeLicensing.Read(settings);
        var readyFile = One(NodeFlags.ReadyFile).Trim();
        var adminTokenFile = One(SecurityFlags.AdminTokenFile).Trim();
        var clientRetention = DurationFlags.Parse(One(NodeFlags.ClientRetention), NodeFlags.ClientRetention.Flag, defaultUnit: "d");
        if (clientRetention < TimeSpan.FromHours(1) || clientRetention > TimeSpan.FromDays(3653))
        {
            throw new NodeOptionsException($"{NodeFlags.ClientRetention.Flag}: must be between 1h and 10 years, got {One(NodeFlags.ClientRetention)}");
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
            Limits = AbuseLimits.Read(settings),
            GrantLease = grantLease,
            LogLevel = logLevel,
            ReadyFile = readyFile.Length == 0 ? null : Path.GetFullPath(readyFile),
            RequestLog = RequestLogSettings.Read(settings),
            ClusterHost = clusterHost,
            ClusterPort = clusterPort,
            Seeds = seeds,
            Database = database,
            SplitBrain = splitBrain,
            Licensing = licensing,
            AdminTokenFile = adminTokenFile.Length == 0 ? null : Path.GetFullPath(adminTokenFile),
            ClusterTls = ClusterTlsSettings.Read(settings),
            Discovery = ClusterDiscovery.Read(settings, clusterHost, Environment.GetEnvironmentVariable),
            Otlp = OtlpExport.Read(settings),
            AllowUnsigned = Dns.DnsPublishing.ParseSwitch(One(NodeFlags.AllowUnsigned), NodeFlags.AllowUnsigned.Flag),
            ClientRegistry = Dns.DnsPublishing.ParseSwitch(One(NodeFlags.ClientRegistry), NodeFlags.ClientRegistry.Flag),
            ClientRetention = clientRetention,
        };
    }

    private static (string Host, int Port, IReadOnlyList<SeedNode> Seeds, string? Database, SplitBrainStrategy SplitBrain)
        ReadCluster(NodeSettings settings)
    {
        var all = settings.All;
        var one = settings.One;
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
        var splitBrain = one(NodeFlags.SplitBrain).Trim().ToLowerInvariant() switch
        {
            "lease-majority" => SplitBrainStrategy.LeaseMajority,
            "keep-majority" => SplitBrainStrategy.KeepMajority,
            "keep-oldest" => SplitBrainStrategy.KeepOldest,
            "auto" or "" => database is null ? SplitBrainStrategy.KeepMajority : SplitBrainStrategy.LeaseMajority,
            var other => throw new NodeOptionsException(
                $"{NodeFlags.SplitBrain.Flag}: \"{other}\" is not one of lease-majority, keep-majority, keep-oldest, auto"),
        };
        return (host, port, seeds, database, splitBrain);
    }

    private static SeedNode ParseSeed(string text) =>
        ParseHostPort(text, NodeFlags.Seed.Flag, "10.0.0.5:4053, kms-a.corp.example:4053, [fd00::5]:4053");

    /// <summary>HOST:PORT with a fixed port (IPv6 in brackets), or a one-line error that names <paramref name="flag"/>.</summary>
    internal static SeedNode ParseHostPort(string text, string flag, string examples)
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
            throw new NodeOptionsException($"{flag}: \"{text}\" is not HOST:PORT with a fixed port (examples: {examples})");
        }
        return new SeedNode(host, port);
    }
}
