using KmsCluster.Node.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace KmsCluster.Node.Activation;

/// <summary>Kestrel entry point of the activation protocol: one <see cref="ActivationSession"/> per connection.</summary>
public sealed partial class ActivationConnectionHandler(
    ActivationService service,
    NodeOptions options,
    IHostApplicationLifetime lifetime,
    ILogger<ActivationConnectionHandler> log) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        LogConnected(connection.ConnectionId, connection.RemoteEndPoint);
        // Stop reading on a graceful close request (server shutdown) or when the host stops; answers
        // already owed are still written before the connection ends.
        var closeRequested = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested
            ?? CancellationToken.None;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(closeRequested, lifetime.ApplicationStopping);
        var session = new ActivationSession(connection.Transport, service, SessionLimits.From(options), connection.RemoteEndPoint);
        if (await session.RunAsync(stop.Token) == SessionEnd.Idle)
        {
            LogIdle(connection.ConnectionId, connection.RemoteEndPoint);
        }
        LogClosed(connection.ConnectionId);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} from {Remote} opened")]
    private partial void LogConnected(string connectionId, System.Net.EndPoint? remote);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} from {Remote} idle; closed")]
    private partial void LogIdle(string connectionId, System.Net.EndPoint? remote);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} closed")]
    private partial void LogClosed(string connectionId);
}
