using KmsCluster.Authority.Configuration;

namespace KmsCluster.Authority.Storage;

public static class ActivationStores
{
    /// <summary>The store the flags name (--db: PostgreSQL, else SQLite in --data), opened and its tables made.</summary>
    public static async Task<IActivationStore> OpenAsync(StoreOptions options, CancellationToken cancellationToken)
    {
        IActivationStore store = options.PostgresConnection is { } db
            ? new PostgresActivationStore(db)
            : new SqliteActivationStore(options.DataDirectory!);
        try
        {
            await store.OpenAsync(cancellationToken);
            return store;
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }
}
