using System.CommandLine;
using KmsCluster.Client.Connection;
using KmsCluster.Client.Discovery;
using Spectre.Console;

namespace KmsCluster.Cli;

/// <summary><c>kms discover DOMAIN [--dns-server HOST[:PORT]] [--json]</c>: the KMS hosts published in DNS.</summary>
internal static class DiscoverCommand
{
    public static Command Create(CliOutput output)
    {
        var domain = new Argument<string>("DOMAIN") { Description = "the domain hosts publish in: looks up _vlmcs._tcp.DOMAIN SRV" };
        var dnsServer = DiscoveryFlags.DnsServerOption();
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("discover", "list the KMS hosts published in DNS (_vlmcs._tcp SRV records), in priority order")
        {
            domain, dnsServer, json,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var discovery = await DiscoveryFlags.CreateAsync(result.GetValue(domain)!, result.GetValue(dnsServer), cancellationToken);
                var hosts = await discovery.LookUpAsync(cancellationToken);
                if (result.GetValue(json))
                {
                    output.WriteJson(new
                    {
                        name = discovery.QueryName,
                        dnsServer = discovery.DnsServer is { } server ? new ServerAddress(server.Address.ToString(), server.Port).ToString() : null,
                        hosts = hosts.Select(h => new
                        {
                            priority = h.Priority,
                            weight = h.Weight,
                            port = h.Port,
                            target = h.Target,
                            addresses = h.Addresses.Select(a => a.ToString()).ToArray(),
                        }),
                    });
                }
                else if (hosts.Count > 0)
                {
                    output.Out.WriteLine($"{hosts.Count} host{(hosts.Count == 1 ? "" : "s")} at {discovery.QueryName} (from {discovery.ResolverName}):");
                    var table = new Table().Border(TableBorder.Simple).AddColumns("Priority", "Weight", "Port", "Target", "Addresses");
                    foreach (var h in hosts)
                    {
                        table.AddRow(h.Priority.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            h.Weight.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            h.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            Markup.Escape(h.Target), Markup.Escape(string.Join(" ", h.Addresses)));
                    }
                    output.Ansi.Write(table);
                }
                if (hosts.Count == 0)
                {
                    return output.Fail(ExitCodes.Unreachable, $"no KMS host is published at {discovery.Source}");
                }
                return ExitCodes.Activated;
            }
            catch (UsageException e)
            {
                return output.Fail(ExitCodes.Usage, e.Message);
            }
            catch (HostDiscoveryException e)
            {
                return output.Fail(ExitCodes.Unreachable, e.Message);
            }
        });
        return command;
    }
}

/// <summary><c>--discover DOMAIN</c> and <c>--dns-server HOST[:PORT]</c>, shared by activate, load and discover.</summary>
internal static class DiscoveryFlags
{
    public static Option<string?> DiscoverOption() => new("--discover")
    {
        Description = "find the hosts in DNS: _vlmcs._tcp.DOMAIN SRV records, tried by priority and weight (instead of --server)",
        HelpName = "DOMAIN",
    };

    public static Option<string?> DnsServerOption() => new("--dns-server")
    {
        Description = "DNS server for the look-ups, HOST[:PORT] (default: the system's resolver)",
        HelpName = "HOST:PORT",
    };

    /// <summary>The discovery the flags ask for, or null with --server; usage errors for both, neither or a stray --dns-server.</summary>
    public static async Task<SrvDiscovery?> ReadAsync(string? domain, string? dnsServer, bool haveServers,
        CancellationToken cancellationToken)
    {
        if (domain is not null && haveServers)
        {
            throw new UsageException("--server and --discover exclude each other: name the hosts, or find them in DNS");
        }
        if (domain is null)
        {
            return haveServers
                ? dnsServer is null ? null : throw new UsageException("--dns-server is for --discover")
                : throw new UsageException("name a host with --server HOST[:PORT] or find them with --discover DOMAIN");
        }
        try
        {
            return await CreateAsync(domain, dnsServer, cancellationToken);
        }
        catch (HostDiscoveryException e)
        {
            throw new KmsConnectionException(e.Message, e);
        }
    }

    /// <summary>The --server hosts, or the hosts found with --discover in RFC 2782 order together with the discovery
    /// (kms load: one look-up at the start; fleet clients look up again when their hosts fail).</summary>
    /// <exception cref="KmsConnectionException">DNS did not answer, or no host is published.</exception>
    public static async Task<(IReadOnlyList<ServerAddress> Servers, IHostDiscovery? Discovery)> ServersAsync(string[]? serverTexts,
        string? domain, string? dnsServer, CancellationToken cancellationToken)
    {
        var servers = (serverTexts ?? []).Select(text => ServerAddresses.ParseOrThrow(text)).ToArray();
        if (await ReadAsync(domain, dnsServer, servers.Length > 0, cancellationToken) is not { } discovery)
        {
            return (servers, null);
        }
        IReadOnlyList<ServerAddress> found;
        try
        {
            found = await discovery.FindServersAsync(cancellationToken);
        }
        catch (HostDiscoveryException e)
        {
            throw new KmsConnectionException(e.Message, e);
        }
        return found.Count > 0
            ? (found, discovery)
            : throw new KmsConnectionException($"no KMS host is published at {discovery.Source}");
    }

    public static async Task<SrvDiscovery> CreateAsync(string domain, string? dnsServer, CancellationToken cancellationToken)
    {
        var name = domain.Trim().TrimEnd('.');
        if (name.Length == 0 || name.Length > 253 || name.Split('.').Any(label =>
                label.Length is 0 or > 63 || !label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            throw new UsageException($"\"{domain}\" is not a domain name (e.g. corp.example)");
        }
        var server = dnsServer is null
            ? null
            : await SrvDiscovery.ResolveServerAsync(ServerAddresses.ParseOrThrow(dnsServer, 53), cancellationToken);
        return new SrvDiscovery(name, server);
    }
}
