using System.Net;
using KmsCluster.Node.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KmsCluster.Node.Hosting;

/// <summary>The node's Kestrel endpoints of one kind (activation or admin), as bound once the host has started:
/// with port 0 Kestrel fills in the port it got.</summary>
public abstract class BoundEndpoints
{
    private readonly List<ListenOptions> _listening = [];

    public IReadOnlyList<EndPoint> EndPoints => _listening.Select(l => l.EndPoint).ToArray();

    /// <summary>HOST:PORT of each, in the order configured.</summary>
    public IReadOnlyList<string> Describe() =>
        _listening.Select(l => l.EndPoint is IPEndPoint ip ? ip.ToString() : l.ToString() ?? "?").ToArray();

    /// <summary>Listens on <paramref name="endpoint"/> and remembers it.</summary>
    public void Listen(KestrelServerOptions kestrel, ListenEndpoint endpoint, Action<ListenOptions> configure)
    {
        Action<ListenOptions> remember = listen =>
        {
            configure(listen);
            _listening.Add(listen);
        };
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
}

/// <summary>The activation endpoints (--listen).</summary>
public sealed class ActivationEndpoints : BoundEndpoints;

/// <summary>The admin HTTP endpoint (--admin).</summary>
public sealed class AdminEndpoints : BoundEndpoints;
