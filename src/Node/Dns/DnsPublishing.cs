using System.Globalization;
using System.Net;
using System.Net.Sockets;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.Dns;

/// <summary>
/// Where and how a node publishes itself in DNS: the SRV record <c>_vlmcs._tcp.ZONE</c> pointing at
/// <see cref="Target"/> on the node's activation port, added by RFC 2136 dynamic update at
/// <see cref="Server"/> (signed with <see cref="Tsig"/> when given), optionally with A/AAAA records for the target.
/// </summary>
public sealed record DnsPublishing(
    bool Enabled,
    DnsServerEndpoint Server,
    string Zone,
    string Target,
    ushort Priority,
    ushort Weight,
    TimeSpan Ttl,
    TimeSpan Refresh,
    IReadOnlyList<IPAddress> Addresses,
    TsigKey? Tsig)
{
    /// <summary>The service label of the KMS model: clients look up <c>_vlmcs._tcp.DOMAIN</c>.</summary>
    public const string ServiceLabel = "_vlmcs._tcp";

    public static readonly DnsPublishing Off = new(false, new DnsServerEndpoint("127.0.0.1", 53), "", "", 0, 0,
        TimeSpan.FromHours(1), TimeSpan.FromHours(24), [], null);

    /// <summary>The SRV owner name: _vlmcs._tcp.ZONE.</summary>
    public string Owner => $"{ServiceLabel}.{Zone}";

    internal static DnsPublishing Read(Func<NodeFlag, IReadOnlyList<string>> all, Func<NodeFlag, string> one)
    {
        if (!ParseSwitch(one(DnsFlags.Publish), DnsFlags.Publish.Flag))
        {
            return Off;
        }

        var serverText = one(DnsFlags.Server).Trim();
        if (serverText.Length == 0)
        {
            throw new NodeOptionsException(
                $"{DnsFlags.Publish.Flag} needs {DnsFlags.Server.Flag} HOST[:PORT]: the primary server of the zone, which accepts dynamic updates");
        }
        var server = DnsServerEndpoint.Parse(serverText, DnsFlags.Server.Flag);

        var nameText = one(DnsFlags.Name).Trim().TrimEnd('.');
        var zoneText = one(DnsFlags.Zone).Trim().TrimEnd('.');
        if (nameText.Length == 0)
        {
            nameText = MachineFqdn();
        }
        if (zoneText.Length == 0)
        {
            var dot = nameText.IndexOf('.');
            if (dot <= 0 || dot == nameText.Length - 1)
            {
                throw new NodeOptionsException(
                    $"{DnsFlags.Zone.Flag}: needed with {DnsFlags.Publish.Flag}: the host name \"{nameText}\" has no domain to publish in");
            }
            zoneText = nameText[(dot + 1)..];
        }
        var zone = CheckDomainName(zoneText, DnsFlags.Zone.Flag);
        // A name without a dot is a host of the zone: node1 -> node1.kms.example.
        var target = CheckDomainName(nameText.Contains('.') ? nameText : $"{nameText}.{zone}", DnsFlags.Name.Flag);

        var priority = ParseUShort(one(DnsFlags.Priority), DnsFlags.Priority.Flag);
        var weight = ParseUShort(one(DnsFlags.Weight), DnsFlags.Weight.Flag);
        var ttl = DurationFlags.Parse(one(DnsFlags.Ttl), DnsFlags.Ttl.Flag, defaultUnit: "s");
        if (ttl < TimeSpan.Zero || ttl > TimeSpan.FromDays(7) || ttl.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new NodeOptionsException($"{DnsFlags.Ttl.Flag}: whole seconds from 0s to 7d, got {one(DnsFlags.Ttl)}");
        }
        var refresh = DurationFlags.Parse(one(DnsFlags.Refresh), DnsFlags.Refresh.Flag, defaultUnit: "s");
        if (refresh < TimeSpan.FromSeconds(10) || refresh > TimeSpan.FromDays(30))
        {
            throw new NodeOptionsException($"{DnsFlags.Refresh.Flag}: must be between 10s and 30d, got {one(DnsFlags.Refresh)}");
        }

        var addresses = all(DnsFlags.Address).Select(a => a.Trim()).Where(a => a.Length > 0).Select(text =>
            IPAddress.TryParse(text.Trim('[', ']'), out var address) &&
            (address.AddressFamily == AddressFamily.InterNetworkV6 || text.Count(c => c == '.') == 3)
                ? address
                : throw new NodeOptionsException($"{DnsFlags.Address.Flag}: \"{text}\" is not an IPv4 or IPv6 address")).Distinct().ToArray();
        if (addresses.Length > 0 && !IsInZone(target, zone))
        {
            throw new NodeOptionsException(
                $"{DnsFlags.Address.Flag}: the target {target} is outside the zone {zone}; its A/AAAA records can only be added in its own zone");
        }

        return new DnsPublishing(true, server, zone, target, priority, weight, ttl, refresh, addresses, TsigKey.Read(one));
    }

    internal static bool ParseSwitch(string text, string flag) => text.Trim().ToLowerInvariant() switch
    {
        "" or "false" or "0" or "no" or "off" => false,
        "true" or "1" or "yes" or "on" => true,
        _ => throw new NodeOptionsException($"{flag}: \"{text}\" is not true or false"),
    };

    /// <summary>The machine's fully qualified name as the resolver knows it, else its host name.</summary>
    private static string MachineFqdn()
    {
        var host = System.Net.Dns.GetHostName();
        try
        {
            var canonical = System.Net.Dns.GetHostEntry(host).HostName;
            return canonical.Contains('.') && !IPAddress.TryParse(canonical, out _) ? canonical.TrimEnd('.') : host;
        }
        catch (SocketException)
        {
            return host;
        }
    }

    private static bool IsInZone(string name, string zone) =>
        name.Equals(zone, StringComparison.OrdinalIgnoreCase) || name.EndsWith("." + zone, StringComparison.OrdinalIgnoreCase);

    /// <summary>Letters, digits, '-' and '_' in labels of 1 to 63 characters, at most 253 in all.</summary>
    internal static string CheckDomainName(string text, string flag)
    {
        var labels = text.Split('.');
        var ok = text.Length is > 0 and <= 253 && labels.All(label =>
            label.Length is > 0 and <= 63 && label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') &&
            label[0] != '-' && label[^1] != '-');
        return ok
            ? text
            : throw new NodeOptionsException(
                $"{flag}: \"{text}\" is not a domain name (labels of letters, digits, - and _, at most 63 characters each)");
    }

    private static ushort ParseUShort(string text, string flag) =>
        ushort.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new NodeOptionsException($"{flag}: \"{text}\" is not a whole number from 0 to 65535");
}

/// <summary>HOST[:PORT] of the DNS server that takes the updates (port 53 unless given).</summary>
public sealed record DnsServerEndpoint(string Host, int Port)
{
    public const int DefaultPort = 53;

    public static DnsServerEndpoint Parse(string text, string flag)
    {
        var trimmed = text.Trim();
        string host;
        var portText = "";
        if (trimmed.StartsWith('['))
        {
            var close = trimmed.IndexOf(']');
            host = close > 0 ? trimmed[1..close] : "";
            var rest = close > 0 ? trimmed[(close + 1)..] : "";
            if (rest.Length > 0 && !rest.StartsWith(':')) host = "";
            portText = rest.Length > 0 ? rest[1..] : "";
        }
        else if (trimmed.Count(c => c == ':') > 1)
        {
            host = ""; // an IPv6 address without brackets
        }
        else
        {
            var colon = trimmed.LastIndexOf(':');
            host = colon >= 0 ? trimmed[..colon] : trimmed;
            portText = colon >= 0 ? trimmed[(colon + 1)..] : "";
        }
        var port = DefaultPort;
        if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || c is '/' or '@') ||
            (portText.Length > 0 && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)))
        {
            throw new NodeOptionsException(
                $"{flag}: \"{text}\" is not HOST[:PORT] (examples: 10.0.0.2, ns1.corp.example:53, [fd00::2]:5353)");
        }
        return new DnsServerEndpoint(host, port);
    }

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>The kms-node flags of DNS publishing; part of <see cref="NodeFlags.All"/>.</summary>
public static class DnsFlags
{
    public static readonly NodeFlag Publish = new("dns-publish", "", "false",
        "publish this node in DNS: _vlmcs._tcp.ZONE SRV record added by dynamic update (RFC 2136), refreshed, removed on shutdown", Switch: true);
    public static readonly NodeFlag Server = new("dns-server", "HOST:PORT", "",
        "DNS server that takes the updates (the zone's primary); port 53 unless given");
    public static readonly NodeFlag Zone = new("dns-zone", "ZONE", "",
        "zone to publish in (default: the domain of --dns-name)");
    public static readonly NodeFlag Name = new("dns-name", "HOSTNAME", "",
        "SRV target: this node's host name (default: the machine's FQDN; a name without a dot is taken inside the zone)");
    public static readonly NodeFlag Priority = new("dns-priority", "N", "0", "SRV priority, 0-65535 (lower is tried first)");
    public static readonly NodeFlag Weight = new("dns-weight", "N", "0", "SRV weight, 0-65535 (share among hosts of one priority)");
    public static readonly NodeFlag Ttl = new("dns-ttl", "DURATION", "1h", "TTL of the published records: seconds, or 10m, 1h");
    public static readonly NodeFlag Refresh = new("dns-refresh", "DURATION", "24h", "re-register the records this often: 12h, 1d (10s to 30d)");
    public static readonly NodeFlag Address = new("dns-address", "IP", "",
        "also publish this address as the target's A/AAAA record (the target must be in the zone); repeat for several", Repeatable: true);
    public static readonly NodeFlag TsigFile = new("dns-tsig-file", "FILE", "",
        "TSIG key in BIND's key-file format (as tsig-keygen writes it) to sign the updates with");
    public static readonly NodeFlag TsigName = new("dns-tsig-name", "NAME", "", "TSIG key name (instead of --dns-tsig-file, with --dns-tsig-secret)");
    public static readonly NodeFlag TsigAlgorithm = new("dns-tsig-algorithm", "ALGORITHM", "hmac-sha256",
        "TSIG algorithm: hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224, hmac-sha1, hmac-md5");
    public static readonly NodeFlag TsigSecret = new("dns-tsig-secret", "BASE64", "", "TSIG key secret, base64 (prefer --dns-tsig-file: a flag shows in the process list)");

    public static readonly IReadOnlyList<NodeFlag> All =
    [
        Publish, Server, Zone, Name, Priority, Weight, Ttl, Refresh, Address, TsigFile, TsigName, TsigAlgorithm, TsigSecret,
    ];
}
