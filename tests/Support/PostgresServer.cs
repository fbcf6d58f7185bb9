using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Npgsql;

namespace KmsCluster.Testing;

/// <summary>
/// A private PostgreSQL server for one test fixture, run from the installed binaries on a free loopback port
/// with its data in a temp directory. Tests may stop it and start it again (same data, same port).
/// tests/run.sh installs the binaries and names them (KMS_TEST_PG_BIN, KMS_TEST_PG_OSUSER).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>The superuser initdb creates; trust authentication, so no password.</summary>
    public const string UserName = "kms";

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(120);
    private static readonly HashSet<PostgresServer> Live = [];

    private readonly string _bin;
    private readonly string? _osUser;
    private readonly NetworkLab? _lab;
    private bool _disposed;

    static PostgresServer()
    {
        // A test run that ends without disposing (a crash, a fixture that threw) must not leave servers behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            PostgresServer[] servers;
            lock (Live) servers = [.. Live];
            foreach (var server in servers) server.AbortQuietly();
        };
    }

    private PostgresServer(string bin, string? osUser, string directory, int port, NetworkLab? lab)
    {
        _bin = bin;
        _osUser = osUser;
        _lab = lab;
        Directory = directory;
        Port = port;
    }

    /// <summary>The server's own temp directory (data/, log, and the Unix socket).</summary>
    public string Directory { get; }
    public string DataDirectory => Path.Combine(Directory, "data");
    public string LogPath => Path.Combine(Directory, "log");
    public int Port { get; private set; }
    public bool IsRunning { get; private set; }

    /// <summary>The PostgreSQL bin directory in use.</summary>
    public string BinDirectory => _bin;

    /// <summary>The OS user the server runs as when the tests run as root; null when it runs as the current user.</summary>
    public string? OsUser => _osUser;

    /// <summary>Creates a cluster with initdb in a new temp directory and starts it on a free port, on 127.0.0.1 and,
    /// with a <paramref name="lab"/>, on its bridge address too, trusting its subnet (nodes in the lab's namespaces
    /// connect through <see cref="ConnectionString(string, string)"/> with <see cref="NetworkLab.HostAddress"/>).</summary>
    public static async Task<PostgresServer> StartAsync(NetworkLab? lab = null)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("PostgresServer runs Debian's PostgreSQL binaries: Linux only");
        }
        var bin = FindBinaries();
        var osUser = FindOsUser();
        var directory = Path.Combine("/tmp", "kms-pg-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var server = new PostgresServer(bin, osUser, directory, FreePorts.Next(), lab);
        lock (Live) Live.Add(server);
        try
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (osUser is not null)
            {
                // initdb and postgres run as osUser and write here.
                var chown = await RunAsync("chown", [osUser + ":", directory], directory);
                if (chown.ExitCode != 0) throw server.Failure($"chown {osUser} {directory}", chown);
            }
            // --no-sync: a test cluster need not survive an OS crash, and syncing makes initdb several times slower.
            // --locale=C: independent of whatever locale the environment names (and may not have installed).
            var initdb = await server.RunToolAsync("initdb",
                ["-D", server.DataDirectory, "-U", UserName, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
            if (initdb.ExitCode != 0) throw server.Failure("initdb", initdb);
            if (lab is not null)
            {
                // initdb's pg_hba.conf trusts loopback only. Appending as root keeps the file's owner.
                await File.AppendAllTextAsync(Path.Combine(server.DataDirectory, "pg_hba.conf"),
                    $"\n# the network lab's nodes (NetworkLab)\nhost all all {lab.Subnet} trust\n");
            }

            // The OS may hand the free port to someone else before postgres binds it: try another one.
            for (var attempt = 1; ; attempt++)
            {
                var start = await server.PgCtlStartAsync();
                if (start.ExitCode == 0) break;
                if (attempt < 3 && server.LogTail().Contains("Address already in use", StringComparison.Ordinal))
                {
                    server.Port = FreePorts.Next();
                    continue;
                }
                throw server.Failure("pg_ctl start", start);
            }
            server.IsRunning = true;
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>An Npgsql connection string for <paramref name="database"/> on this server.</summary>
    public string ConnectionString(string database) => ConnectionString(database, "127.0.0.1");

    /// <summary>The same, through <paramref name="host"/>: one of the addresses the server listens on.</summary>
    public string ConnectionString(string database, string host) =>
        $"Host={host};Port={Port};Username={UserName};Database={database};Timeout=5;Command Timeout=15;Pooling=true";

    /// <summary>Fast shutdown (pg_ctl -m fast): open sessions are cut off, data stays.</summary>
    public async Task StopAsync()
    {
        var stop = await RunToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop"]);
        if (stop.ExitCode != 0) throw Failure("pg_ctl stop", stop);
        IsRunning = false;
        // Pooled connections in this process now point at a dead server.
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Starts the stopped server again on the same data and port.</summary>
    public async Task StartAgainAsync()
    {
        var start = await PgCtlStartAsync();
        if (start.ExitCode != 0) throw Failure("pg_ctl start (again)", start);
        IsRunning = true;
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>CREATE DATABASE through the postgres database.</summary>
    public async Task CreateDatabaseAsync(string name)
    {
        await ExecuteAsync("postgres", $"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"");
    }

    /// <summary>Runs a statement; parameters are positional ($1, $2, ...). Returns the rows affected.</summary>
    public Task<int> ExecuteAsync(string database, string sql, params object?[] parameters) =>
        WithCommandAsync(database, sql, parameters, command => command.ExecuteNonQueryAsync());

    /// <summary>The first column of the first row (null for SQL NULL or no row); parameters are positional.</summary>
    public Task<object?> ExecuteScalarAsync(string database, string sql, params object?[] parameters) =>
        WithCommandAsync(database, sql, parameters, async command =>
        {
            var value = await command.ExecuteScalarAsync();
            return value is DBNull ? null : value;
        });

    /// <summary>Every row as an array of column values (SQL NULL as null); parameters are positional.</summary>
    public Task<IReadOnlyList<object?[]>> QueryAsync(string database, string sql, params object?[] parameters) =>
        WithCommandAsync<IReadOnlyList<object?[]>>(database, sql, parameters, async command =>
        {
            var rows = new List<object?[]>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                rows.Add(row);
            }
            return rows;
        });

    /// <summary>The last lines of the server log, for failure messages.</summary>
    public string LogTail(int lines = 30)
    {
        try
        {
            var all = File.ReadAllLines(LogPath);
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException)
        {
            return "(no server log yet)";
        }
        catch (UnauthorizedAccessException)
        {
            return "(server log not readable)";
        }
    }

    /// <summary>Immediate shutdown (pg_ctl -m immediate), then the directory is deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            var stop = await RunToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "immediate", "-w", "-t", "30", "stop"]);
            if (stop.ExitCode != 0) KillPostmaster(SigKill);
        }
        IsRunning = false;
        DeleteDirectory();
        lock (Live) Live.Remove(this);
    }

    private async Task<T> WithCommandAsync<T>(string database, string sql, object?[] parameters,
        Func<NpgsqlCommand, Task<T>> run)
    {
        // Unpooled: a helper's connection must not outlive a stop/start of the server.
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString(database)) { Pooling = false };
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            foreach (var parameter in parameters) command.Parameters.Add(new NpgsqlParameter { Value = parameter ?? DBNull.Value });
            return await run(command);
        }
        catch (NpgsqlException e)
        {
            throw new PostgresServerException(
                $"{sql} on database {database} (port {Port}) failed: {e.Message}\n--- server log tail ---\n{LogTail()}", e);
        }
    }

    private string ListenAddresses => _lab is null ? "127.0.0.1" : $"127.0.0.1,{_lab.HostAddress}";

    private Task<ToolResult> PgCtlStartAsync() =>
        RunToolAsync("pg_ctl", ["-D", DataDirectory, "-l", LogPath, "-w", "-t", "60", "-o",
            $"-p {Port} -k {Directory} -c listen_addresses={ListenAddresses} -c max_connections=200", "start"]);

    private Task<ToolResult> RunToolAsync(string tool, IReadOnlyList<string> args)
    {
        var path = Path.Combine(_bin, tool);
        // initdb refuses to run as root, and postgres must own its data: run as the test OS user then.
        return _osUser is null
            ? RunAsync(path, args, Directory)
            : RunAsync(RunUser(), ["-u", _osUser, "--", path, .. args], Directory);
    }

    private static async Task<ToolResult> RunAsync(string file, IReadOnlyList<string> args, string workingDirectory)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // The tool's user must be able to enter it (postgres tools stat their working directory).
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(ToolTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return new ToolResult(-1, await stdout, $"timed out after {ToolTimeout.TotalSeconds:0} s\n" + await stderr,
                Describe(file, args));
        }
        return new ToolResult(process.ExitCode, await stdout, await stderr, Describe(file, args));
    }

    private PostgresServerException Failure(string what, ToolResult result)
    {
        var message = new StringBuilder()
            .Append(what).Append(" failed with exit code ").Append(result.ExitCode)
            .Append(" (").Append(result.CommandLine).Append(')').Append('\n');
        if (result.StdOut.Trim() is { Length: > 0 } stdout) message.Append(stdout).Append('\n');
        if (result.StdErr.Trim() is { Length: > 0 } stderr) message.Append(stderr).Append('\n');
        message.Append("--- server log tail (").Append(LogPath).Append(") ---\n").Append(LogTail());
        return new PostgresServerException(message.ToString());
    }

    private static string FindBinaries()
    {
        const string hint = "run tests/run.sh once (it installs PostgreSQL), or set KMS_TEST_PG_BIN to a PostgreSQL bin directory";
        if (Environment.GetEnvironmentVariable("KMS_TEST_PG_BIN") is { Length: > 0 } configured)
        {
            return HasTools(configured)
                ? configured
                : throw new InvalidOperationException($"KMS_TEST_PG_BIN={configured} holds no initdb/pg_ctl: {hint}");
        }
        var candidates = System.IO.Directory.Exists("/usr/lib/postgresql")
            ? System.IO.Directory.GetDirectories("/usr/lib/postgresql")
            : [];
        var best = candidates
            .Select(dir => (Dir: Path.Combine(dir, "bin"),
                Ok: decimal.TryParse(Path.GetFileName(dir), NumberStyles.Number, CultureInfo.InvariantCulture, out var v),
                Version: v))
            .Where(c => c.Ok && HasTools(c.Dir))
            .OrderByDescending(c => c.Version)
            .Select(c => c.Dir)
            .FirstOrDefault();
        return best ?? throw new InvalidOperationException($"no PostgreSQL under /usr/lib/postgresql/*/bin: {hint}");
    }

    private static bool HasTools(string bin) =>
        File.Exists(Path.Combine(bin, "initdb")) && File.Exists(Path.Combine(bin, "pg_ctl"));

    private static string? FindOsUser()
    {
        if (geteuid() != 0) return null;
        if (Environment.GetEnvironmentVariable("KMS_TEST_PG_OSUSER") is { Length: > 0 } configured) return configured;
        if (UserExists("postgres")) return "postgres";
        throw new InvalidOperationException(
            "the tests run as root and initdb refuses to: set KMS_TEST_PG_OSUSER to a non-root user, or run tests/run.sh (it sets one up)");
    }

    private static bool UserExists(string name) =>
        File.Exists("/etc/passwd") && File.ReadLines("/etc/passwd").Any(line => line.StartsWith(name + ":", StringComparison.Ordinal));

    private static string RunUser() =>
        new[] { "/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser" }.FirstOrDefault(File.Exists) ?? "runuser";

    private static string Describe(string file, IReadOnlyList<string> args) =>
        string.Join(' ', args.Prepend(file).Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));

    private const int SigKill = 9;
    private const int SigQuit = 3;

    private void AbortQuietly()
    {
        // SIGQUIT is PostgreSQL's immediate shutdown; synchronous, for process exit.
        KillPostmaster(SigQuit);
        DeleteDirectory();
    }

    private void KillPostmaster(int signal)
    {
        try
        {
            var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid))
            {
                _ = kill(pid, signal);
            }
        }
        catch (Exception)
        {
            // Best effort: the server is going away either way.
        }
    }

    private void DeleteDirectory()
    {
        try
        {
            if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A postmaster that is still exiting may hold a file for a moment; the OS temp cleaner gets it.
        }
    }

    private sealed record ToolResult(int ExitCode, string StdOut, string StdErr, string CommandLine);

    [DllImport("libc")]
    private static extern uint geteuid();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}

/// <summary>A test PostgreSQL server failed; the message carries the server log's tail.</summary>
public sealed class PostgresServerException(string message, Exception? inner = null) : Exception(message, inner);
