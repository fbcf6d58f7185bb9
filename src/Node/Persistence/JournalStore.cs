using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Persistence.Sql.Config;
using KmsCluster.Actors.Entities;
using LinqToDB;

namespace KmsCluster.Node.Persistence;

/// <summary>Where a node's windows are journaled: its own SQLite file, or the PostgreSQL database a whole
/// cluster shares.</summary>
public abstract class JournalStore
{
    /// <summary>"sqlite" or "postgresql", as the admin API and the ready line show it.</summary>
    public abstract string Kind { get; }

    /// <summary>Where the journal is, without credentials.</summary>
    public abstract string Location { get; }

    /// <summary>
    /// The Akka.NET actor system name, which every member of one cluster must share. It is derived from the
    /// journal itself: nodes on the same PostgreSQL database get the same name and can join each other;
    /// nodes on different databases, or any node on its own SQLite file, cannot join anybody, so no window
    /// is ever written to two journals.
    /// </summary>
    public abstract string ClusterName { get; }

    /// <summary>Where the split brain resolver's lease lives; null when there is none (a single SQLite node).</summary>
    public virtual string? LeaseConnectionString => null;

    /// <summary>Akka.Persistence.Sql journal and snapshot store settings.</summary>
    public abstract Config PersistenceConfig();

    /// <summary>
    /// The journal's and the snapshot store's connections, with what HOCON cannot express. Each connection opens
    /// only while <paramref name="fence"/> lets this node write: a write that was on its way into the journal when
    /// the process froze (SIGSTOP, a paused VM) reaches the database only after the wake-up, when the survivors
    /// may have taken the window over and trimmed the rows whose sequence numbers would have refused it. The
    /// entities ask the fence before they persist; this asks it again where the write actually happens.
    /// </summary>
    public Setup PersistenceSetup(IWriteFence fence)
    {
        var options = Connections().UseBeforeConnectionOpened(
            _ => RefuseWhenFenced(fence),
            (_, _) =>
            {
                RefuseWhenFenced(fence);
                return Task.CompletedTask;
            });
        var setup = new MultiDataOptionsSetup();
        setup.AddDataOptions(JournalPluginId, options);
        setup.AddDataOptions(SnapshotPluginId, options);
        return setup;
    }

    /// <summary>Provider and connection string of the journal and snapshot store (as in <see cref="PersistenceConfig"/>),
    /// plus any per-connection setting of the store.</summary>
    protected abstract DataOptions Connections();

    private static void RefuseWhenFenced(IWriteFence fence)
    {
        if (!fence.MayWrite)
        {
            throw new InvalidOperationException("this node was frozen too long to be trusted: it opens no journal connection");
        }
    }

    protected const string JournalPluginId = "akka.persistence.journal.sql";
    protected const string SnapshotPluginId = "akka.persistence.snapshot-store.sql";

    protected static Config SqlPersistenceConfig(string connectionString, string providerName, int parallelism) =>
        ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  connection-string = "{{HoconString(connectionString)}}"
                  provider-name = "{{providerName}}"
                  parallelism = {{parallelism}}
                  auto-initialize = true
                  # A database outage fails writes fast, and service resumes within seconds of its return
                  # (the default breaker would stay open for 30 s).
                  circuit-breaker {
                    max-failures = 10
                    call-timeout = 10s
                    reset-timeout = 2s
                  }
                }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  connection-string = "{{HoconString(connectionString)}}"
                  provider-name = "{{providerName}}"
                  auto-initialize = true
                  circuit-breaker {
                    max-failures = 10
                    call-timeout = 10s
                    reset-timeout = 2s
                  }
                }
              }
            }
            """);

    private static string HoconString(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"");
}
