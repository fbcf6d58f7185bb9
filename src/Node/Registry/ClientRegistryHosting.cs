using KmsCluster.Node.Activation;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Persistence;

namespace KmsCluster.Node.Registry;

/// <summary>The client registry: the feed the answer path writes to, its table (registry.db beside a SQLite journal, or
/// the cluster's PostgreSQL database), and the background writer.</summary>
public static class ClientRegistryHosting
{
    public static IServiceCollection AddClientRegistry(this IServiceCollection services, NodeOptions options, JournalStore store,
        DataDirectory data)
    {
        services.AddSingleton(new RegistryFeed(options.ClientRegistry));
        services.AddSingleton<ClientRegistryStore>(store switch
        {
            SqliteStore => new SqliteClientRegistry(data.ClientRegistryDatabase),
            PostgresStore postgres => new PostgresClientRegistry(postgres.RegistryConnectionString),
            _ => throw new InvalidOperationException($"no client registry for a {store.Kind} store"),
        });
        // Off, the writer still creates the table (the admin API reads it) and enforces retention; it just gets nothing to write.
        services.AddHostedService(provider => new ClientRegistryWriter(
            provider.GetRequiredService<RegistryFeed>(),
            provider.GetRequiredService<ClientRegistryStore>(),
            provider.GetRequiredService<HostIdentity>(),
            options.ClientRetention,
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<ClientRegistryWriter>>()));
        return services;
    }
}
