using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Akka.Hosting.Logging;

namespace KmsCluster.Node.Logging;

/// <summary>
/// Akka.NET logger that hands each event to Microsoft.Extensions.Logging as one plain line, under the category
/// of the class that logged it (Akka.Cluster.Cluster, KmsCluster.Actors.Windows.ActivationWindowActor...),
/// so Akka's lines look like the node's own instead of carrying a second timestamp and header.
/// </summary>
public sealed class AkkaLogBridge : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly ILoggerFactory _factory;
    private readonly Dictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);

    public AkkaLogBridge()
    {
        var setup = Context.System.Settings.Setup.Get<LoggerFactorySetup>();
        _factory = setup.HasValue
            ? setup.Value.LoggerFactory
            : throw new InvalidOperationException("AkkaLogBridge needs a LoggerFactorySetup in the actor system setup");
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent log:
                var category = Category(log);
                if (!_loggers.TryGetValue(category, out var logger))
                {
                    logger = _loggers[category] = _factory.CreateLogger(category);
                }
                logger.Log(Level(log.LogLevel()), log.Cause, "{Message}", Text(log.Message));
                return true;
            default:
                return false;
        }
    }

    /// <summary>The logging class, or for logs from a plain string source ("Cluster (akka://kms)") Akka.Cluster.</summary>
    private static string Category(LogEvent log)
    {
        if (log.LogClass != typeof(DummyClassForStringSources))
        {
            return log.LogClass.FullName ?? log.LogClass.Name;
        }
        var source = log.LogSource ?? "";
        var end = source.IndexOfAny([' ', '(']);
        var name = end > 0 ? source[..end] : source;
        return "Akka." + (name.Length > 0 ? char.ToUpperInvariant(name[0]) + name[1..] : "Actor");
    }

    private static string Text(object? message)
    {
        try
        {
            return message?.ToString() ?? "";
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            return $"(unformattable log message: {e.Message})";
        }
    }

    private static Microsoft.Extensions.Logging.LogLevel Level(Akka.Event.LogLevel level) => level switch
    {
        Akka.Event.LogLevel.DebugLevel => Microsoft.Extensions.Logging.LogLevel.Debug,
        Akka.Event.LogLevel.InfoLevel => Microsoft.Extensions.Logging.LogLevel.Information,
        Akka.Event.LogLevel.WarningLevel => Microsoft.Extensions.Logging.LogLevel.Warning,
        _ => Microsoft.Extensions.Logging.LogLevel.Error,
    };
}
