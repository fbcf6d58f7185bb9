using System.Net;
using KmsCluster.Node.Configuration;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;

namespace KmsCluster.Node.Limits;

/// <summary>
/// At most --max-connections activation connections on the node and --max-connections-per-source from one
/// <see cref="SourceKey"/> (unless --limit-exempt covers it). <see cref="LimitedTransport"/> asks at accept: one over
/// a limit is reset before anything is read, and counted; its client (a KMS client tries the next host when a
/// connection closes) sees the connection reset. An admitted one carries its <see cref="ConnectionSource"/> to the
/// session; <see cref="Wrap"/>, the connection middleware in front of the handler, gives its place back at the end.
/// </summary>
public sealed class ConnectionLimiter(AbuseLimits limits, LimitStats stats)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, int> _perSource = []; // live sources only: bounded by the node's limit
    private int _open;

    /// <summary>Activation connections open now.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>Takes a place for a connection from <paramref name="remote"/>, or counts the refusal.</summary>
    public bool TryAdmit(EndPoint? remote, out ConnectionSource admitted)
    {
        var source = SourceKey.Of(remote);
        admitted = new ConnectionSource(source, Exempt: source.IsIn(limits.Exempt));
        return TryEnter(source.Key, !admitted.Exempt);
    }

    /// <summary>Gives back the place <see cref="TryAdmit"/> took.</summary>
    public void Release(ConnectionSource admitted) => Leave(admitted.Source.Key, !admitted.Exempt);

    /// <summary>Closes a refused socket with a reset, not a graceful close: a flood of refused connections then
    /// leaves no TIME_WAIT on the node (the side that closes first keeps one for a minute).</summary>
    public static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // already reset by its client: closing is all that is left
        }
        socket.Dispose();
    }

    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        var admitted = connection.Features.Get<ConnectionSource>()
            ?? throw new InvalidOperationException("an activation connection that did not come through LimitedTransport");
        try
        {
            await next(connection);
        }
        finally
        {
            Release(admitted);
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
