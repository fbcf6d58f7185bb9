namespace KmsCluster.Node.Configuration;

/// <summary>The kms-node flags of DNS publishing (read by Dns.DnsPublishing); part of <see cref="NodeFlags.All"/>.</summary>
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
