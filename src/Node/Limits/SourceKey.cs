using System.Net;
using System.Net.Sockets;

namespace KmsCluster.Node.Limits;

/// <summary>
/// The source a per-source limit counts against: an IPv4 address (also when it arrives IPv4-mapped on a dual-stack
/// socket, ::ffff:a.b.c.d, so one client is one source on either stack), or the /64 prefix of an IPv6 address (one
/// host or LAN usually owns a whole /64 and can pick any address in it, so counting single IPv6 addresses would
/// not limit it).
/// </summary>
/// <param name="Address">The client's address, IPv4-mapped ones as IPv4; what <c>--limit-exempt</c> is matched against.</param>
/// <param name="Key">What the limits count by: <paramref name="Address"/> for IPv4, its /64 for IPv6.</param>
public readonly record struct SourceKey(IPAddress Address, IPAddress Key)
{
    /// <summary>Connections whose remote end is not an IP endpoint (none in practice) share this source.</summary>
    public static readonly SourceKey Unknown = new(IPAddress.None, IPAddress.None);

    public static SourceKey Of(EndPoint? remote)
    {
        if (remote is not IPEndPoint { Address: var address })
        {
            return Unknown;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return new SourceKey(address, address);
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new SourceKey(address, new IPAddress(bytes));
    }

    public bool IsIn(IReadOnlyList<IPNetwork> networks)
    {
        foreach (var network in networks)
        {
            if (network.Contains(Address)) return true;
        }
        return false;
    }

    public override string ToString() => Key.AddressFamily == AddressFamily.InterNetworkV6 ? $"{Key}/64" : Key.ToString();
}
