using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace KmsCluster.Node.Limits;

/// <summary>An activation endpoint: Kestrel binds it through <see cref="LimitedTransport"/>, not its own socket
/// transport (which binds plain <see cref="IPEndPoint"/>s, such as the admin endpoint).</summary>
public sealed class LimitedEndPoint(IPEndPoint address) : EndPoint
{
    public IPEndPoint Address { get; } = address;

    public override AddressFamily AddressFamily => Address.AddressFamily;

    public override string ToString() => Address.ToString();
}

/// <summary>
/// Kestrel's socket transport with the <see cref="ConnectionLimiter"/> at accept. A connection over a limit is reset
/// and closed in the accept loop, before Kestrel builds anything for it. Kestrel would otherwise set up pipes, a
/// connection, its middleware and teardown for each of them, and a connection flood refuses thousands a second.
/// An admitted socket becomes a connection as in Kestrel's own transport (<see cref="SocketConnectionContextFactory"/>),
/// carrying its <see cref="ConnectionSource"/>. <see cref="ConnectionLimiter.Release"/> frees the place when it ends.
/// </summary>
public sealed class LimitedTransport(ConnectionLimiter limiter, IOptions<SocketTransportOptions> options, ILoggerFactory loggers)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is LimitedEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var address = ((LimitedEndPoint)endpoint).Address;
        Socket socket;
        try
        {
            socket = SocketTransportOptions.CreateDefaultBoundListenSocket(address); // [::] is dual-mode
        }
        catch (SocketException e)
        {
            // An IOException, as from Kestrel's own transport: start-up says "cannot listen" with the address.
            var message = $"{address}: {e.Message}";
            throw e.SocketErrorCode == SocketError.AddressAlreadyInUse ? new AddressInUseException(message, e) : new IOException(message, e);
        }
        try
        {
            socket.Listen(options.Value.Backlog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var settings = options.Value;
        var connections = new SocketConnectionContextFactory(
            new SocketConnectionFactoryOptions
            {
                IOQueueCount = settings.IOQueueCount,
                WaitForDataBeforeAllocatingBuffer = settings.WaitForDataBeforeAllocatingBuffer,
                MaxReadBufferSize = settings.MaxReadBufferSize,
                MaxWriteBufferSize = settings.MaxWriteBufferSize,
                UnsafePreferInlineScheduling = settings.UnsafePreferInlineScheduling,
            },
            loggers.CreateLogger<LimitedTransport>());
        return ValueTask.FromResult<IConnectionListener>(new Listener(socket, connections, limiter, settings.NoDelay));
    }

    private sealed class Listener(Socket socket, SocketConnectionContextFactory connections, ConnectionLimiter limiter, bool noDelay)
        : IConnectionListener
    {
        public EndPoint EndPoint { get; } = socket.LocalEndPoint!;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                Socket accepted;
                try
                {
                    accepted = await socket.AcceptAsync(cancellationToken);
                }
                catch (ObjectDisposedException)
                {
                    return null; // unbound
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
                {
                    return null;
                }
                catch (SocketException)
                {
                    continue; // reset by its client while in the backlog
                }
                if (!limiter.TryAdmit(accepted.RemoteEndPoint, out var source))
                {
                    ConnectionLimiter.Reset(accepted);
                    continue;
                }
                try
                {
                    accepted.NoDelay = noDelay;
                }
                catch (SocketException)
                {
                    // Reset by its client just now. Nothing may escape this loop: Kestrel stops accepting on an exception.
                    limiter.Release(source);
                    accepted.Dispose();
                    continue;
                }
                var connection = connections.Create(accepted);
                connection.Features.Set(source);
                return connection;
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            connections.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
