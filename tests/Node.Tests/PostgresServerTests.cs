using KmsCluster.Testing;
using Npgsql;

namespace KmsCluster.Node.Tests;

/// <summary>The test harness's private PostgreSQL server: databases, stop, start again, clean up.</summary>
public sealed class PostgresServerTests
{
    [Fact]
    public async Task A_server_serves_two_databases_survives_a_stop_and_leaves_nothing_behind()
    {
        var server = await PostgresServer.StartAsync();
        string directory;
        try
        {
            directory = server.Directory;
            Assert.True(server.IsRunning);
            Assert.True(Directory.Exists(server.DataDirectory));

            await server.CreateDatabaseAsync("first");
            await server.CreateDatabaseAsync("second");
            Assert.Equal("first", await server.ExecuteScalarAsync("first", "SELECT current_database()"));
            Assert.Equal(3, await server.ExecuteScalarAsync("second", "SELECT $1::int + 1", 2));

            await server.ExecuteAsync("first", "CREATE TABLE kept (id int PRIMARY KEY, note text)");
            await server.ExecuteAsync("first", "INSERT INTO kept VALUES (1, 'before the stop'), (2, NULL)");

            await server.StopAsync();
            Assert.False(server.IsRunning);
            await using (var connection = new NpgsqlConnection(server.ConnectionString("first")))
            {
                await Assert.ThrowsAnyAsync<NpgsqlException>(() => connection.OpenAsync());
            }
            var failure = await Assert.ThrowsAsync<PostgresServerException>(
                () => server.ExecuteScalarAsync("first", "SELECT 1"));
            Assert.Contains("server log tail", failure.Message);

            await server.StartAgainAsync();
            Assert.True(server.IsRunning);
            var rows = await server.QueryAsync("first", "SELECT id, note FROM kept ORDER BY id");
            Assert.Equal(2, rows.Count);
            Assert.Equal(new object?[] { 1, "before the stop" }, rows[0]);
            Assert.Equal(new object?[] { 2, null }, rows[1]);

            // A connection string as a node gets it works after the restart as well.
            await using var pooled = new NpgsqlConnection(server.ConnectionString("second"));
            await pooled.OpenAsync();
        }
        finally
        {
            await server.DisposeAsync();
        }
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public async Task Two_servers_get_their_own_port_and_directory()
    {
        await using var first = await PostgresServer.StartAsync();
        await using var second = await PostgresServer.StartAsync();
        Assert.NotEqual(first.Port, second.Port);
        Assert.NotEqual(first.Directory, second.Directory);
        Assert.Equal(first.Port, await first.ExecuteScalarAsync("postgres", "SELECT current_setting('port')::int"));
        Assert.Equal(second.Port, await second.ExecuteScalarAsync("postgres", "SELECT current_setting('port')::int"));
    }
}
