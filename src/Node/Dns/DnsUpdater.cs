using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using ARSoft.Tools.Net.Dns.DynamicUpdate;

namespace KmsCluster.Node.Dns;

/// <summary>The records of one node: its SRV record on <paramref name="Port"/> and the target's addresses.</summary>
public sealed record DnsRegistration(DnsPublishing Settings, int Port)
{
    /// <summary>As a zone file line: _vlmcs._tcp.kms.example. 3600 IN SRV 0 100 1688 node1.kms.example.</summary>
    public string SrvText => string.Create(CultureInfo.InvariantCulture,
        $"{Settings.Owner}. {(int)Settings.Ttl.TotalSeconds} IN SRV {Settings.Priority} {Settings.Weight} {Port} {Settings.Target}.");
}

/// <summary>What a DNS server said to one update; <see cref="Error"/> is the operator's one-line reason.</summary>
public sealed record DnsUpdateOutcome(bool Succeeded, string? Error)
{
    public static readonly DnsUpdateOutcome Success = new(true, null);

    public static DnsUpdateOutcome Failure(string error) => new(false, error);
}

/// <summary>Sends the node's records to a DNS server. Implementations never throw for DNS trouble: they say what went wrong.</summary>
public interface IDnsUpdater
{
    /// <summary>Replaces this node's own records (same target and port) with fresh ones; other nodes' records stay.</summary>
    Task<DnsUpdateOutcome> RegisterAsync(DnsRegistration registration, CancellationToken cancellationToken);

    /// <summary>Deletes exactly this node's own records.</summary>
    Task<DnsUpdateOutcome> RemoveAsync(DnsRegistration registration, CancellationToken cancellationToken);
}

/// <summary>
/// RFC 2136 dynamic updates with ARSoft.Tools.Net, signed with TSIG (RFC 8945) when a key is set. One UPDATE
/// message per call: delete this node's SRV RR (same priority-independent rdata: target and port), then add it
/// with the configured TTL, priority and weight; the same for each A/AAAA record. Deleting a specific RR leaves
/// the other nodes' records of the same name alone, and a re-registration is idempotent.
/// </summary>
public sealed class Rfc2136Updater(TimeSpan timeout) : IDnsUpdater
{
    public Task<DnsUpdateOutcome> RegisterAsync(DnsRegistration registration, CancellationToken cancellationToken) =>
        SendAsync(registration, add: true, cancellationToken);

    public Task<DnsUpdateOutcome> RemoveAsync(DnsRegistration registration, CancellationToken cancellationToken) =>
        SendAsync(registration, add: false, cancellationToken);

    private async Task<DnsUpdateOutcome> SendAsync(DnsRegistration registration, bool add, CancellationToken cancellationToken)
    {
        var settings = registration.Settings;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        IPAddress server;
        try
        {
            server = await ResolveServerAsync(settings.Server, limit.Token);
        }
        catch (Exception e) when (e is SocketException or ArgumentException)
        {
            return DnsUpdateOutcome.Failure($"cannot resolve the DNS server name {settings.Server.Host}: {e.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return NoAnswer(settings);
        }

        var message = BuildMessage(registration, add);
        using var client = new ARSoft.Tools.Net.Dns.DnsClient([server],
            [new UdpClientTransport(settings.Server.Port), new TcpClientTransport(settings.Server.Port)], true,
            (int)timeout.TotalMilliseconds);
        DnsUpdateMessage? answer;
        try
        {
            answer = await client.SendUpdateAsync(message, limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return NoAnswer(settings);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            return DnsUpdateOutcome.Failure($"DNS server {settings.Server}: {e.Message}");
        }
        return answer is null ? NoAnswer(settings) : Judge(answer, settings);
    }

    private DnsUpdateOutcome NoAnswer(DnsPublishing settings) => DnsUpdateOutcome.Failure(string.Create(CultureInfo.InvariantCulture,
        $"no answer from DNS server {settings.Server} in {timeout.TotalSeconds:0.#} s"));

    private static async Task<IPAddress> ResolveServerAsync(DnsServerEndpoint server, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(server.Host, out var address))
        {
            return address;
        }
        var addresses = await System.Net.Dns.GetHostAddressesAsync(server.Host, cancellationToken);
        return addresses.FirstOrDefault() ?? throw new SocketException((int)SocketError.HostNotFound);
    }

    internal static DnsUpdateMessage BuildMessage(DnsRegistration registration, bool add)
    {
        var settings = registration.Settings;
        var owner = DomainName.Parse(settings.Owner);
        var target = DomainName.Parse(settings.Target);
        var ttl = (int)settings.Ttl.TotalSeconds;
        var message = new DnsUpdateMessage { ZoneName = DomainName.Parse(settings.Zone) };
        var srv = new SrvRecord(owner, ttl, settings.Priority, settings.Weight, (ushort)registration.Port, target);
        message.Updates.Add(new DeleteRecordUpdate(srv));
        if (add)
        {
            message.Updates.Add(new AddRecordUpdate(srv));
        }
        foreach (var address in settings.Addresses)
        {
            DnsRecordBase record = address.AddressFamily == AddressFamily.InterNetworkV6
                ? new AaaaRecord(target, ttl, address)
                : new ARecord(target, ttl, address);
            message.Updates.Add(new DeleteRecordUpdate(record));
            if (add)
            {
                message.Updates.Add(new AddRecordUpdate(record));
            }
        }
        if (settings.Tsig is { } key)
        {
            message.TSigOptions = new TSigRecord(DomainName.Parse(key.Name), Algorithm(key.Algorithm), DateTime.UtcNow,
                TimeSpan.FromMinutes(5), message.TransactionID, ReturnCode.NoError, null, key.Secret);
        }
        return message;
    }

    private static TSigAlgorithm Algorithm(string name) => name switch
    {
        "hmac-md5" => TSigAlgorithm.Md5,
        "hmac-sha1" => TSigAlgorithm.Sha1,
        "hmac-sha224" => TSigAlgorithm.Sha224,
        "hmac-sha256" => TSigAlgorithm.Sha256,
        "hmac-sha384" => TSigAlgorithm.Sha384,
        "hmac-sha512" => TSigAlgorithm.Sha512,
        _ => throw new ArgumentException($"unknown TSIG algorithm {name}", nameof(name)),
    };

    /// <summary>The server's answer as one line an operator can act on.</summary>
    internal static DnsUpdateOutcome Judge(DnsMessageBase answer, DnsPublishing settings)
    {
        // ARSoft names TSIG error 16 (BADSIG) after the EDNS code BADVERS, which shares the number.
        var tsigError = answer.TSigOptions is { } tsig ? (int)tsig.Error : 0;
        return answer.ReturnCode switch
        {
            ReturnCode.NoError => DnsUpdateOutcome.Success,
            ReturnCode.NotAuthoritive when tsigError == 16 => DnsUpdateOutcome.Failure("TSIG key refused (BADSIG/NOTAUTH): the secret does not match the server's key"),
            ReturnCode.NotAuthoritive when tsigError == 17 => DnsUpdateOutcome.Failure($"TSIG key refused (BADKEY/NOTAUTH): the server has no key {settings.Tsig?.Name} with this algorithm"),
            ReturnCode.NotAuthoritive when tsigError == 18 => DnsUpdateOutcome.Failure("TSIG key refused (BADTIME/NOTAUTH): this node's clock and the server's differ by more than 5 minutes"),
            ReturnCode.NotAuthoritive => DnsUpdateOutcome.Failure($"the server is not authoritative for {settings.Zone} or refused the signature (NOTAUTH)"),
            ReturnCode.Refused => DnsUpdateOutcome.Failure(settings.Tsig is null
                ? $"update refused (REFUSED): the server does not accept unsigned updates to {settings.Zone} from here (set a TSIG key)"
                : $"update refused (REFUSED): the key {settings.Tsig.Name} may not update {settings.Owner} (check the zone's update-policy)"),
            ReturnCode.NotZone => DnsUpdateOutcome.Failure($"a record lies outside the zone {settings.Zone} (NOTZONE)"),
            ReturnCode.ServerFailure => DnsUpdateOutcome.Failure("the DNS server failed to apply the update (SERVFAIL)"),
            ReturnCode.NotImplemented => DnsUpdateOutcome.Failure("the DNS server does not implement dynamic update (NOTIMP)"),
            var other => DnsUpdateOutcome.Failure($"the DNS server answered {other} ({(int)other})"),
        };
    }
}
