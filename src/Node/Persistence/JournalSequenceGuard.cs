using Npgsql;

namespace KmsCluster.Node.Persistence;

/// <summary>
/// Keeps every entity of a PostgreSQL journal single-writer although the journal is trimmed. The journal's unique
/// index on (persistence id, sequence number) refuses a second writer only while the row it collides with exists,
/// and every window deletes its journal up to each snapshot (every 200 events): an incarnation that fell behind (a
/// second cluster formed on the same database, a woken owner whose fence did not close) wrote sequence numbers the
/// others had written and trimmed, and the fork went unnoticed. The chaos run found one (docs/chaos.md).
/// A row trigger remembers each persistence id's highest sequence number ever written in
/// <c>kms_journal_high_water</c> and refuses any insert at or below it with <c>unique_violation</c>, the error the
/// index gives, so the writer reacts as to a duplicate (its batch fails, it stops, the next message recovers it
/// with what the other wrote). Installed once the journal table exists (Akka.Persistence.Sql creates it when the
/// journal starts), by whichever node gets there first; idempotent.
/// </summary>
public static class JournalSequenceGuard
{
    private const string Sql = """
        SELECT pg_advisory_xact_lock(1689);
        CREATE TABLE IF NOT EXISTS kms_journal_high_water (
            persistence_id text PRIMARY KEY,
            sequence_number bigint NOT NULL);
        CREATE OR REPLACE FUNCTION kms_journal_sequence_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
        BEGIN
            INSERT INTO kms_journal_high_water AS high (persistence_id, sequence_number)
            VALUES (NEW.persistence_id, NEW.sequence_number)
            ON CONFLICT (persistence_id) DO UPDATE SET sequence_number = EXCLUDED.sequence_number
                WHERE high.sequence_number < EXCLUDED.sequence_number;
            IF NOT FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'unique_violation', MESSAGE = format(
                    '%s: sequence number %s was written before: a second writer of this entity',
                    NEW.persistence_id, NEW.sequence_number);
            END IF;
            RETURN NEW;
        END
        $guard$;
        DO $install$
        BEGIN
            IF to_regclass('journal') IS NULL THEN
                RETURN;
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'kms_journal_sequence_guard'
                                                        AND tgrelid = to_regclass('journal')) THEN
                -- No write may pass between reading the journal's highest numbers and arming the trigger.
                LOCK TABLE journal IN SHARE ROW EXCLUSIVE MODE;
                INSERT INTO kms_journal_high_water AS high (persistence_id, sequence_number)
                    SELECT persistence_id, max(sequence_number) FROM journal GROUP BY persistence_id
                    ON CONFLICT (persistence_id) DO UPDATE
                        SET sequence_number = greatest(high.sequence_number, EXCLUDED.sequence_number);
                CREATE TRIGGER kms_journal_sequence_guard BEFORE INSERT ON journal
                    FOR EACH ROW EXECUTE FUNCTION kms_journal_sequence_guard();
            END IF;
        END
        $install$;
        """;

    /// <summary>Installs the guard when the journal table exists; false when it does not exist yet.</summary>
    public static async Task<bool> TryInstallAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var install = new NpgsqlCommand(Sql, connection, transaction))
        {
            await install.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var armed = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'kms_journal_sequence_guard' AND tgrelid = to_regclass('journal'))",
            connection, transaction);
        var installed = (bool)(await armed.ExecuteScalarAsync(cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return installed;
    }
}

/// <summary>Installs <see cref="JournalSequenceGuard"/> on a database whose journal table did not exist when the node
/// opened it (a new cluster's first start): retries until the journal has been created.</summary>
internal sealed partial class JournalSequenceGuardInstaller(PostgresStore store, ILogger<JournalSequenceGuardInstaller> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(store.RegistryConnectionString);
                await connection.OpenAsync(stoppingToken);
                if (await JournalSequenceGuard.TryInstallAsync(connection, stoppingToken))
                {
                    LogInstalled();
                    return;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(500), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                LogRetrying(e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Journal sequence guard armed")]
    private partial void LogInstalled();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Arming the journal sequence guard failed ({Reason}); retrying")]
    private partial void LogRetrying(string reason);
}
