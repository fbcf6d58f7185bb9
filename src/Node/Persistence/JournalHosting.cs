using Akka.Actor;
using Akka.Hosting;
using Akka.Persistence.Sql;
using KmsCluster.Actors.Entities;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.Persistence;

/// <summary>Where the windows and ledgers are journaled: the node's own SQLite file, or with --db the
/// PostgreSQL database of its cluster. Persistence is configured by the store's HOCON (Akka.Persistence.Sql.Hosting
/// lags the plugin's version).</summary>
public static class JournalHosting
{
    /// <summary>How long a node waits at start-up for a PostgreSQL that does not answer yet.</summary>
    private static readonly TimeSpan DatabaseWait = TimeSpan.FromSeconds(60);

    /// <summary>Opens the store the options ask for.</summary>
    /// <exception cref="NodeOptionsException">it cannot be used.</exception>
    public static async Task<JournalStore> OpenJournalAsync(NodeOptions options, DataDirectory data, Guid hostId,
        Action<string> waiting) =>
        options.Database is { } database
            ? await PostgresStore.OpenAsync(database, DatabaseWait, waiting, CancellationToken.None)
            : SqliteStore.Open(data, hostId);

    /// <summary>A PostgreSQL journal gets its <see cref="JournalSequenceGuard"/> (armed at start when the journal
    /// exists, else as soon as the journal has been created).</summary>
    public static IServiceCollection AddJournalSequenceGuard(this IServiceCollection services, JournalStore store)
    {
        if (store is PostgresStore postgres)
        {
            services.AddHostedService(provider => new JournalSequenceGuardInstaller(postgres,
                provider.GetRequiredService<ILogger<JournalSequenceGuardInstaller>>()));
        }
        return services;
    }

    /// <param name="fence">Closes the journal's connections after a freeze (see <see cref="JournalStore.PersistenceSetup"/>).</param>
    public static AkkaConfigurationBuilder AddJournal(this AkkaConfigurationBuilder akka, JournalStore store, IWriteFence fence)
    {
        akka.AddHocon(store.PersistenceConfig(), HoconAddMode.Prepend);
        akka.AddSetup(store.PersistenceSetup(fence));
        akka.AddHocon(SqlPersistence.DefaultConfiguration, HoconAddMode.Append);
        // The warm-up stops by itself once its recovery is over.
        akka.AddStartup((system, _) => system.ActorOf(Props.Create(() => new JournalWarmUp()), "journal-warm-up"));
        return akka;
    }
}
