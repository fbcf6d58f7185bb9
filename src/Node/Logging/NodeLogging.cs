using Akka.Hosting;
using Akka.Hosting.Logging;

namespace KmsCluster.Node.Logging;

/// <summary>One log for the node and its actor system: single-line console output with UTC timestamps.</summary>
public static class NodeLogging
{
    public static void Configure(ILoggingBuilder logging, LogLevel level)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.UseUtcTimestamp = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        logging.SetMinimumLevel(level);
        // Framework chatter only when asked for Trace.
        if (level > LogLevel.Trace)
        {
            logging.AddFilter("Microsoft", LogLevel.Warning);
            // A failed start is reported in one line by NodeHost, not as the host's stack trace.
            logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        }
    }

    /// <summary>Akka's log events go to the node's ILoggerFactory through <see cref="AkkaLogBridge"/>.</summary>
    public static AkkaConfigurationBuilder AddNodeLogging(this AkkaConfigurationBuilder akka, IServiceProvider services,
        LogLevel level)
    {
        akka.AddSetup(new LoggerFactorySetup(services.GetRequiredService<ILoggerFactory>()));
        return akka.ConfigureLoggers(loggers =>
        {
            loggers.LogLevel = AkkaLevel(level);
            loggers.ClearLoggers();
            loggers.AddLogger<AkkaLogBridge>();
        });
    }

    private static Akka.Event.LogLevel AkkaLevel(LogLevel level) => level switch
    {
        LogLevel.Trace or LogLevel.Debug => Akka.Event.LogLevel.DebugLevel,
        LogLevel.Information => Akka.Event.LogLevel.InfoLevel,
        LogLevel.Warning => Akka.Event.LogLevel.WarningLevel,
        _ => Akka.Event.LogLevel.ErrorLevel,
    };
}
