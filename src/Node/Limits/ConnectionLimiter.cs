using System.Net;
using KmsCluster.Node.Configuration;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace KmsCluster.Node.Limits;

/// <summary>
/// Kestrel connection middleware in front of the activation handler: at most --max-connections activation connections
/// on the node and --max-connections-per-source from one <see cref="SourceKey"/> (unless --limit-exempt covers it).
/// One over a limit is reset at accept, before anything is read, and counted; its client (a KMS client tries the
/// next host when a connection closes) sees the connection reset. The connection's source goes on to the session as a
/// <see cref="ConnectionSource"/> feature.
/// </summary>
public sealed class ConnectionLimiter(AbuseLimits limits, LimitStats stats)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, int> _perSource = []; // live sources only: bounded by the node's limit
    private int _open;

    /// <summary>Activation connections open now.</summary>
    public int Open => Volatile.Read(ref _open);

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        var source = SourceKey.Of(connection.RemoteEndPoint);
        var counted = !source.IsIn(limits.Exempt);
        if (!TryEnter(source.Key, counted))
        {
            // Reset, not a graceful close: a flood of refused connections then leaves no TIME_WAIT on the node (the
            // side that closes first keeps one for a minute). Kestrel closes the socket once the delegate returns.
            if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
            {
                socket.LingerState = new LingerOption(true, 0);
            }
            return;
        }
        try
        {
            connection.Features.Set(new ConnectionSource(source, Exempt: !counted));
            await next(connection);
        }
        finally
        {
            Leave(source.Key, counted);
        }
    };

    private bool TryEnter(IPAddress source, bool perSource)
    {
        lock (_gate)
        {
            if (_open >= limits.MaxConnections)
            {
                stats.RefusedNodeConnection();
                return false;
            }
            if (perSource)
            {
                _perSource.TryGetValue(source, out var held);
                if (held >= limits.MaxConnectionsPerSource)
                {
                    stats.RefusedSourceConnection();
                    return false;
                }
                _perSource[source] = held + 1;
            }
            _open++;
            return true;
        }
    }

    private void Leave(IPAddress source, bool perSource)
    {
        lock (_gate)
        {
            _open--;
            if (perSource && _perSource.TryGetValue(source, out var held))
            {
                if (held <= 1) _perSource.Remove(source);
                else _perSource[source] = held - 1;
            }
        }
    }
}

/// <summary>The source a connection counts against, and whether --limit-exempt lifts the per-source limits from it.</summary>
public sealed record ConnectionSource(SourceKey Source, bool Exempt);
