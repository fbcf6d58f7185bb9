using System.Net;
using System.Net.Sockets;
using KmsCluster.Node.Limits;
using KmsCluster.Node.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KmsCluster.Node.Hosting;

/// <summary>The node's Kestrel endpoints of one kind (activation or admin), as bound once the host has started:
/// with port 0 Kestrel fills in the port it got.</summary>
public abstract class BoundEndpoints
{
    private readonly List<ListenOptions> _listening = [];

    public IReadOnlyList<EndPoint> EndPoints => _listening.Select(l => l.EndPoint is LimitedEndPoint limited ? limited.Address : l.EndPoint).ToArray();

    /// <summary>HOST:PORT of each, in the order configured.</summary>
    public IReadOnlyList<string> Describe() =>
        EndPoints.Select(e => e is IPEndPoint ip ? ip.ToString() : e.ToString() ?? "?").ToArray();

    /// <summary>Listens on <paramref name="endpoint"/> and remembers it.</summary>
    public void Listen(KestrelServerOptions kestrel, ListenEndpoint endpoint, Action<ListenOptions> configure)
    {
        var remember = Remember(configure);
        if (endpoint.IsAnyAddress)
        {
            kestrel.ListenAnyIP(endpoint.Port, remember);
        }
        else if (endpoint.IsLocalhost)
        {
            kestrel.ListenLocalhost(endpoint.Port, remember);
        }
        else
        {
            kestrel.Listen(endpoint.Address!, endpoint.Port, remember);
        }
    }

    protected Action<ListenOptions> Remember(Action<ListenOptions> configure) => listen =>
    {
        configure(listen);
        _listening.Add(listen);
    };
}

/// <summary>The activation endpoints (--listen), bound through <see cref="LimitedTransport"/>: the connection limits
/// apply at accept.</summary>
public sealed class ActivationEndpoints : BoundEndpoints
{
    /// <summary>Listens on each address of <paramref name="endpoint"/> as a <see cref="LimitedEndPoint"/>, as Kestrel
    /// would: <c>*</c> is [::] (dual-mode: IPv4 too) or 0.0.0.0 where IPv6 is off, <c>localhost</c> is 127.0.0.1 and,
    /// where IPv6 is on, [::1].</summary>
    public void ListenLimited(KestrelServerOptions kestrel, ListenEndpoint endpoint, Action<ListenOptions> configure)
    {
        IPAddress[] addresses = endpoint switch
        {
            { IsAnyAddress: true } => [CanBind(IPAddress.IPv6Any) ? IPAddress.IPv6Any : IPAddress.Any],
            { IsLocalhost: true } => CanBind(IPAddress.IPv6Loopback) ? [IPAddress.Loopback, IPAddress.IPv6Loopback] : [IPAddress.Loopback],
            _ => [endpoint.Address!],
        };
        foreach (var address in addresses)
        {
            kestrel.Listen(new LimitedEndPoint(new IPEndPoint(address, endpoint.Port)), Remember(configure));
        }
    }

    private static bool CanBind(IPAddress address)
    {
        if (!Socket.OSSupportsIPv6 && address.AddressFamily == AddressFamily.InterNetworkV6) return false;
        try
        {
            using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(address, 0));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>The admin HTTP endpoint (--admin).</summary>
public sealed class AdminEndpoints : BoundEndpoints;
