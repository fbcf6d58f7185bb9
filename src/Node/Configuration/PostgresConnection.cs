using Npgsql;

namespace KmsCluster.Node.Configuration;

/// <summary>Checks a PostgreSQL connection string at start-up, so a typo is a one-line error, not a stack
/// trace from the first write.</summary>
public static class PostgresConnection
{
    public static string Validate(string text, string flag)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(text);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new NodeOptionsException($"{flag}: not a PostgreSQL connection string ({e.Message.TrimEnd('.')}); example: Host=10.0.0.9;Database=kms;Username=kms;Password=...");
        }
        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new NodeOptionsException($"{flag}: the connection string names no Host");
        }
        if (string.IsNullOrWhiteSpace(builder.Database))
        {
            throw new NodeOptionsException($"{flag}: the connection string names no Database");
        }
        return builder.ConnectionString;
    }

    /// <summary>host:port/database, without credentials, for logs and the admin API.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }
}
