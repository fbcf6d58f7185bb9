using System.Globalization;
using System.Net;

namespace KmsCluster.Node.Configuration;

/// <summary>The kms-node flags that bound what broken or hostile clients can take (read by <see cref="AbuseLimits"/>);
/// part of <see cref="NodeFlags.All"/>. Why each default is what it is: docs/architecture.md, "Abuse limits".</summary>
public static class LimitFlags
{
    public static readonly NodeFlag MaxConnections = new("max-connections", "N", "10000",
        "activation connections this node holds at once; one more is reset at accept (1 to 1000000)");
    public static readonly NodeFlag MaxConnectionsPerSource = new("max-connections-per-source", "N", "512",
        "activation connections one source address (IPv4 address, IPv6 /64) holds at once; one more is reset at accept (1 to 1000000)");
    public static readonly NodeFlag FrameTimeout = new("frame-timeout", "DURATION", "10s",
        "a frame whose first byte arrived must be complete within this, or the connection is closed (100ms to 5m); apart from --idle-timeout");
    public static readonly NodeFlag SourceRate = new("source-rate", "N", "1000",
        "requests per second one source address may send (token bucket, bursts of one second's worth); beyond it a retryable server-busy with a retry hint; 0 turns it off");
    public static readonly NodeFlag MaxPending = new("max-pending", "N", "50000",
        "requests this node holds unanswered, all connections together; beyond it a retryable server-busy (1 to 10000000)");
    public static readonly NodeFlag LimitExempt = new("limit-exempt", "ADDRESS[/BITS]", "loopback",
        "sources the per-source limits (connections, rate) do not apply to: an address or network (10.0.0.0/8, fd00::/8), loopback (127.0.0.0/8 and ::1), or none; repeat for several", Repeatable: true);

    public static readonly IReadOnlyList<NodeFlag> All = [MaxConnections, MaxConnectionsPerSource, FrameTimeout, SourceRate, MaxPending, LimitExempt];
}

/// <summary>What one node lets its clients take: connections (per node and per source), the time a started frame
/// may take to arrive, requests per second per source, and requests pending answers on the whole node.</summary>
/// <param name="SourceRate">Requests per second per source; 0: no rate limit.</param>
/// <param name="Exempt">Networks the per-source limits skip.</param>
public sealed record AbuseLimits(
    int MaxConnections,
    int MaxConnectionsPerSource,
    TimeSpan FrameTimeout,
    int SourceRate,
    int MaxPending,
    IReadOnlyList<IPNetwork> Exempt)
{
    public static readonly IReadOnlyList<IPNetwork> Loopback = [IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("::1/128")];

    public static readonly AbuseLimits Default = new(10_000, 512, TimeSpan.FromSeconds(10), 1_000, 50_000, Loopback);

    /// <exception cref="NodeOptionsException">a value out of range or an address that does not parse.</exception>
    public static AbuseLimits Read(NodeSettings settings)
    {
        var frameTimeout = DurationFlags.Parse(settings.One(LimitFlags.FrameTimeout), LimitFlags.FrameTimeout.Flag, defaultUnit: "s");
        if (frameTimeout < TimeSpan.FromMilliseconds(100) || frameTimeout > TimeSpan.FromMinutes(5))
        {
            throw new NodeOptionsException($"{LimitFlags.FrameTimeout.Flag}: must be between 100ms and 5m, got {settings.One(LimitFlags.FrameTimeout)}");
        }
        return new AbuseLimits(
            Whole(settings, LimitFlags.MaxConnections, 1, 1_000_000),
            Whole(settings, LimitFlags.MaxConnectionsPerSource, 1, 1_000_000),
            frameTimeout,
            Whole(settings, LimitFlags.SourceRate, 0, 1_000_000),
            Whole(settings, LimitFlags.MaxPending, 1, 10_000_000),
            ReadExempt(settings.All(LimitFlags.LimitExempt)));
    }

    /// <summary>The sources the per-source limits skip; IPv4 networks also cover their IPv4-mapped IPv6 form,
    /// because a source is compared as <see cref="Limits.SourceKey"/> normalises it.</summary>
    private static IReadOnlyList<IPNetwork> ReadExempt(IReadOnlyList<string> values)
    {
        var networks = new List<IPNetwork>();
        foreach (var text in values.SelectMany(v => v.Split(',')).Select(v => v.Trim()).Where(v => v.Length > 0))
        {
            if (text.Equals("none", StringComparison.OrdinalIgnoreCase)) continue;
            if (text.Equals("loopback", StringComparison.OrdinalIgnoreCase))
            {
                networks.AddRange(Loopback);
                continue;
            }
            if (IPNetwork.TryParse(text, out var network))
            {
                // 10.0.0.1/8 is most likely a typo for one address or for 10.0.0.0/8: say so rather than guess.
                var slash = text.IndexOf('/');
                if (slash > 0 && IPAddress.TryParse(text[..slash], out var given) && !given.Equals(network.BaseAddress))
                {
                    throw new NodeOptionsException(
                        $"{LimitFlags.LimitExempt.Flag}: \"{text}\" has host bits set; the network is {network} (or give the address alone)");
                }
                networks.Add(network);
            }
            else if (IPAddress.TryParse(text, out var address))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                throw new NodeOptionsException(
                    $"{LimitFlags.LimitExempt.Flag}: \"{text}\" is not an address, a network (10.0.0.0/8, fd00::/8 with no host bits set), loopback or none");
            }
        }
        return networks;
    }

    private static int Whole(NodeSettings settings, NodeFlag flag, int min, int max)
    {
        var text = settings.One(flag).Trim();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new NodeOptionsException($"{flag.Flag}: must be a whole number from {min} to {max}, got \"{text}\"");
        }
        return value;
    }
}
