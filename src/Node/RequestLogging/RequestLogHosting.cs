using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.RequestLogging;

/// <summary>The structured request log (--request-log): the queue the activation path writes to, always there (off,
/// it takes nothing), and its writer when the log is on.</summary>
public static class RequestLogHosting
{
    public static IServiceCollection AddRequestLog(this IServiceCollection services, NodeOptions options)
    {
        services.AddSingleton<RequestLog>();
        if (options.RequestLog is not null)
        {
            services.AddHostedService<RequestLogWriter>();
        }
        return services;
    }
}
