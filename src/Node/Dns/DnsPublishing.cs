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

    public static DnsPublishing Read(NodeSettings settings)
    {
        if (!ParseSwitch(settings.One(DnsFlags.Publish), DnsFlags.Publish.Flag))
        {
            return Off;
        }

        var serverText = settings.One(DnsFlags.Server).Trim();
        if (serverText.Length == 0)
        {
            throw new NodeOptionsException(
                $"{DnsFlags.Publish.Flag} needs {DnsFlags.Server.Flag} HOST[:PORT]: the primary server of the zone, which accepts dynamic updates");
        }
        var server = DnsServerEndpoint.Parse(serverText, DnsFlags.Server.Flag);

        var nameText = settings.One(DnsFlags.Name).Trim().TrimEnd('.');
        var zoneText = settings.One(DnsFlags.Zone).Trim().TrimEnd('.');
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

        var priority = ParseUShort(settings.One(DnsFlags.Priority), DnsFlags.Priority.Flag);
        var weight = ParseUShort(settings.One(DnsFlags.Weight), DnsFlags.Weight.Flag);
        var ttl = DurationFlags.Parse(settings.One(DnsFlags.Ttl), DnsFlags.Ttl.Flag, defaultUnit: "s");
        if (ttl < TimeSpan.Zero || ttl > TimeSpan.FromDays(7) || ttl.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new NodeOptionsException($"{DnsFlags.Ttl.Flag}: whole seconds from 0s to 7d, got {settings.One(DnsFlags.Ttl)}");
        }
        var refresh = DurationFlags.Parse(settings.One(DnsFlags.Refresh), DnsFlags.Refresh.Flag, defaultUnit: "s");
        if (refresh < TimeSpan.FromSeconds(10) || refresh > TimeSpan.FromDays(30))
        {
            throw new NodeOptionsException($"{DnsFlags.Refresh.Flag}: must be between 10s and 30d, got {settings.One(DnsFlags.Refresh)}");
        }

        var addresses = settings.All(DnsFlags.Address).Select(a => a.Trim()).Where(a => a.Length > 0).Select(text =>
            IPAddress.TryParse(text.Trim('[', ']'), out var address) &&
            (address.AddressFamily == AddressFamily.InterNetworkV6 || text.Count(c => c == '.') == 3)
                ? address
                : throw new NodeOptionsException($"{DnsFlags.Address.Flag}: \"{text}\" is not an IPv4 or IPv6 address")).Distinct().ToArray();
        if (addresses.Length > 0 && !IsInZone(target, zone))
        {
            throw new NodeOptionsException(
                $"{DnsFlags.Address.Flag}: the target {target} is outside the zone {zone}; its A/AAAA records can only be added in its own zone");
        }

        return new DnsPublishing(true, server, zone, target, priority, weight, ttl, refresh, addresses, TsigKey.Read(settings));
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
