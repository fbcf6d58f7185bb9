using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using KmsCluster.Client.Connection;

namespace KmsCluster.Client.Discovery;

/// <summary>One published host: an SRV record of <c>_vlmcs._tcp.DOMAIN</c> and the target's addresses as DNS gave them.</summary>
public sealed record SrvHost(ushort Priority, ushort Weight, int Port, string Target, IReadOnlyList<IPAddress> Addresses)
{
    /// <summary>Where to connect: each address of the target, or the target's name (resolved when connecting)
    /// when DNS gave none.</summary>
    public IEnumerable<ServerAddress> Servers => Addresses.Count > 0
        ? Addresses.Select(a => new ServerAddress(a.ToString(), Port))
        : [new ServerAddress(Target, Port)];
}

/// <summary>
/// Finds KMS hosts in DNS as a KMS client does: the SRV records of <c>_vlmcs._tcp.DOMAIN</c> (RFC 2782), looked up
/// with DnsClient.NET at the system's resolver or at a given DNS server, with the targets' A/AAAA records from
/// the same server. <see cref="Order"/> puts them in the order to try: priority ascending, and within a priority
/// a weighted random pick. No caching: a client looks up again when its hosts fail, and must see the change.
/// </summary>
public sealed class SrvDiscovery : IHostDiscovery
{
    public const string ServiceLabel = "_vlmcs._tcp";

    private readonly LookupClient _lookup;

    /// <param name="domain">The domain the hosts publish in (kms.example); a trailing dot is dropped.</param>
    /// <param name="dnsServer">The DNS server to ask (port 53 unless given); null: the system's resolvers.</param>
    public SrvDiscovery(string domain, IPEndPoint? dnsServer = null, TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(domain);
        Domain = domain.Trim().TrimEnd('.');
        DnsServer = dnsServer;
        var options = dnsServer is null ? new LookupClientOptions() : new LookupClientOptions(dnsServer);
        options.UseCache = false;
        options.Timeout = timeout ?? TimeSpan.FromSeconds(3);
        options.Retries = 1;
        options.UseTcpFallback = true;
        options.ThrowDnsErrors = false;
        options.ContinueOnDnsError = false;
        _lookup = new LookupClient(options);
    }

    public string Domain { get; }

    /// <summary>_vlmcs._tcp.DOMAIN</summary>
    public string QueryName => $"{ServiceLabel}.{Domain}";

    /// <summary>The DNS server asked; null for the system's resolvers.</summary>
    public IPEndPoint? DnsServer { get; }

    public string Source => $"{QueryName} (asked {ResolverName})";

    /// <summary>Who answers the look-ups, for messages: 127.0.0.1:5353 or "the system resolver".</summary>
    public string ResolverName => DnsServer is null ? "the system resolver" : new ServerAddress(DnsServer.Address.ToString(), DnsServer.Port).ToString();

    /// <summary>Every published host, priority ascending, then weight descending (for showing; see <see cref="Order"/>).</summary>
    /// <exception cref="HostDiscoveryException">no answer, or an error answer other than "no such name".</exception>
    public async Task<IReadOnlyList<SrvHost>> LookUpAsync(CancellationToken cancellationToken = default)
    {
        var answer = await QueryAsync(QueryName, QueryType.SRV, cancellationToken);
        var records = answer.Answers.SrvRecords().ToArray();
        // A lone "." target says the service is decidedly not available here (RFC 2782).
        if (records.Length == 1 && records[0].Target.Value is "." or "")
        {
            return [];
        }
        var hosts = new List<SrvHost>();
        foreach (var record in records)
        {
            var target = record.Target.Value.TrimEnd('.');
            IReadOnlyList<IPAddress> addresses = AddressesIn(answer.Additionals, record.Target.Value);
            if (addresses.Count == 0)
            {
                addresses = await AddressesOfAsync(record.Target.Value, cancellationToken);
            }
            hosts.Add(new SrvHost(record.Priority, record.Weight, record.Port, target, addresses));
        }
        return hosts.OrderBy(h => h.Priority).ThenByDescending(h => h.Weight)
            .ThenBy(h => h.Target, StringComparer.OrdinalIgnoreCase).ThenBy(h => h.Port).ToArray();
    }

    /// <summary>Looks up and orders the hosts (<see cref="Order"/>): where to connect, first choice first.</summary>
    /// <exception cref="HostDiscoveryException">as <see cref="LookUpAsync"/>.</exception>
    public async Task<IReadOnlyList<ServerAddress>> FindServersAsync(CancellationToken cancellationToken = default) =>
        Order(await LookUpAsync(cancellationToken), Random.Shared).SelectMany(h => h.Servers).Distinct().ToArray();

    /// <summary>
    /// RFC 2782's order: lowest priority first; within one priority, repeatedly pick a host at random with a chance
    /// proportional to its weight among those left (weight-0 hosts are put first in the running sum, so they get a
    /// small chance when others have weight; hosts start shuffled, so all-0 hosts get an equal one).
    /// </summary>
    public static IReadOnlyList<SrvHost> Order(IEnumerable<SrvHost> hosts, Random random)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        ArgumentNullException.ThrowIfNull(random);
        var ordered = new List<SrvHost>();
        foreach (var group in hosts.GroupBy(h => h.Priority).OrderBy(g => g.Key))
        {
            // "Arrange them in any order": shuffled, so hosts of equal weight (all 0 included) share the first pick.
            var left = group.OrderBy(h => h.Weight == 0 ? 0 : 1).ThenBy(_ => random.Next()).ToList();
            while (left.Count > 0)
            {
                var total = left.Sum(h => (long)h.Weight);
                var pick = random.NextInt64(total + 1); // 0..total inclusive
                var running = 0L;
                var chosen = left.Count - 1;
                for (var i = 0; i < left.Count; i++)
                {
                    running += left[i].Weight;
                    if (running >= pick)
                    {
                        chosen = i;
                        break;
                    }
                }
                ordered.Add(left[chosen]);
                left.RemoveAt(chosen);
            }
        }
        return ordered;
    }

    /// <summary>Resolves HOST[:PORT] (port 53 unless given) of a DNS server to an endpoint.</summary>
    /// <exception cref="HostDiscoveryException">a name that does not resolve.</exception>
    public static async Task<IPEndPoint> ResolveServerAsync(ServerAddress server, CancellationToken cancellationToken = default)
    {
        if (IPAddress.TryParse(server.Host, out var address))
        {
            return new IPEndPoint(address, server.Port);
        }
        try
        {
            var addresses = await System.Net.Dns.GetHostAddressesAsync(server.Host, cancellationToken);
            return addresses.Length > 0
                ? new IPEndPoint(addresses[0], server.Port)
                : throw new HostDiscoveryException($"the DNS server name {server.Host} has no address");
        }
        catch (SocketException e)
        {
            throw new HostDiscoveryException($"cannot resolve the DNS server name {server.Host}: {e.Message}", e);
        }
    }

    private async Task<IDnsQueryResponse> QueryAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        IDnsQueryResponse answer;
        try
        {
            answer = await _lookup.QueryAsync(name, type, QueryClass.IN, cancellationToken);
        }
        catch (DnsResponseException e)
        {
            throw new HostDiscoveryException($"no answer from {ResolverName} for {name} {type}: {e.Message}", e);
        }
        if (answer.HasError && answer.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain)
        {
            throw new HostDiscoveryException($"{ResolverName} answered {name} {type} with {answer.ErrorMessage}");
        }
        return answer;
    }

    private static List<IPAddress> AddressesIn(IEnumerable<DnsResourceRecord> records, string target) =>
        records.Where(r => string.Equals(r.DomainName.Value, target, StringComparison.OrdinalIgnoreCase))
            .Select(r => r switch
            {
                ARecord a => a.Address,
                AaaaRecord aaaa => aaaa.Address,
                _ => null,
            })
            .OfType<IPAddress>().ToList();

    private async Task<IReadOnlyList<IPAddress>> AddressesOfAsync(string target, CancellationToken cancellationToken)
    {
        var addresses = new List<IPAddress>();
        foreach (var type in new[] { QueryType.A, QueryType.AAAA })
        {
            try
            {
                var answer = await QueryAsync(target, type, cancellationToken);
                addresses.AddRange(AddressesIn(answer.Answers, target.EndsWith('.') ? target : target + "."));
            }
            catch (HostDiscoveryException)
            {
                // No address from this server: the client resolves the name when it connects.
            }
        }
        return addresses;
    }
}
