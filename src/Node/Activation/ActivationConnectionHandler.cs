using KmsCluster.Node.Configuration;
using KmsCluster.Node.Limits;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace KmsCluster.Node.Activation;

/// <summary>Kestrel entry point of the activation protocol: one <see cref="ActivationSession"/> per connection.</summary>
public sealed partial class ActivationConnectionHandler(
    ActivationService service,
    NodeOptions options,
    LimitStats limitStats,
    NodePendingAnswers pending,
    SourceRateLimiter rate,
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
        // Set at accept by LimitedTransport (ConnectionLimiter.Wrap refuses a connection without it); an exempt
        // source has no rate bucket.
        var source = connection.Features.GetRequiredFeature<ConnectionSource>();
        var admission = new RequestAdmission(limitStats, pending, rate, source.Exempt ? null : rate.BucketFor(source.Source));
        var session = new ActivationSession(connection.Transport, service, SessionLimits.From(options), admission, limitStats,
            connection.RemoteEndPoint);
        switch (await session.RunAsync(stop.Token))
        {
            case SessionEnd.Idle:
                LogIdle(connection.ConnectionId, connection.RemoteEndPoint);
                break;
            case SessionEnd.FrameTimeout:
                LogFrameTimeout(connection.ConnectionId, connection.RemoteEndPoint);
                break;
        }
        LogClosed(connection.ConnectionId);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} from {Remote} opened")]
    private partial void LogConnected(string connectionId, System.Net.EndPoint? remote);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} from {Remote} idle; closed")]
    private partial void LogIdle(string connectionId, System.Net.EndPoint? remote);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} from {Remote} did not complete a frame in time; closed")]
    private partial void LogFrameTimeout(string connectionId, System.Net.EndPoint? remote);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} closed")]
    private partial void LogClosed(string connectionId);
}
