using Akka.Actor.Setup;
using Akka.Configuration;

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

    /// <summary>Connection settings HOCON cannot express (see <see cref="SqliteStore"/>); null when none.</summary>
    public virtual Setup? PersistenceSetup() => null;

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
