using System.Diagnostics;
using System.Globalization;
using System.Text;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Testing;
using Microsoft.Data.Sqlite;

// dotnet run -c Release --project bench/AuthorityBench -- [--seconds 10] [--clients 16] [--keys 4]
var seconds = Flag("--seconds", 10);
var clients = Flag("--clients", 16);
var keyCount = Flag("--keys", 4);
var duration = TimeSpan.FromSeconds(seconds);

using var work = new TempDirectory();
var keyDirectory = Path.Combine(work.Path, "authority");
using var authority = LicensingAuthority.Create(keyDirectory);
var keys = Enumerable.Range(0, keyCount)
    .Select(i => authority.Issue($"bench-{i}", "Windows Server 2025 volume licence", "Bench Ltd", DateTimeOffset.UtcNow.AddDays(-1),
        maxHosts: HostKey.MaxHostsLimit))
    .ToArray();

// Requests are signed before the clock starts: the hosts' signing is not the authority's work.
var expected = 6000 * seconds;
Console.Error.WriteLine($"signing {expected} requests for distinct hosts ...");
using var hostKey = HostSigningKey.CreateEphemeral();
var requests = Enumerable.Range(0, expected)
    .Select(i => hostKey.Request(keys[i % keys.Length], Guid.NewGuid(), $"bench-host-{i}", DateTimeOffset.UtcNow, reactivation: false).ToJson())
    .ToArray();

await using var service = await AuthorityProcess.StartAsync(keyDirectory, Path.Combine(work.Path, "data"));
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = service.Url };

var health = await RunAsync("health", _ => http.GetAsync("api/v1/health"));
var next = -1;
var activations = await RunAsync("activations", async _ =>
{
    var index = Interlocked.Increment(ref next);
    if (index >= requests.Length) throw new InvalidOperationException("out of pre-signed requests: raise the estimate in Program.cs");
    return await http.PostAsync("api/v1/host-activations", new StringContent(requests[index], Encoding.UTF8, "application/json"));
});
var commits = RawSqliteCommits(Path.Combine(work.Path, "raw.db"), duration);

Console.WriteLine();
Console.WriteLine($"kms-authority on SQLite, {clients} concurrent clients, {seconds} s each, {keyCount} keys (maxHosts {HostKey.MaxHostsLimit}), {Environment.ProcessorCount} cores");
Console.WriteLine($"{"run",-40} {"per second",12} {"ratio",8}");
Console.WriteLine($"{"host activations (POST, distinct hosts)",-40} {activations,12:0} {1.0,8:0.00}");
Console.WriteLine($"{"GET /api/v1/health (same server)",-40} {health,12:0} {activations / health,8:0.00}");
Console.WriteLine($"{"raw SQLite BEGIN IMMEDIATE commits",-40} {commits,12:0} {activations / commits,8:0.00}");
Console.WriteLine("ratio: host activations/s divided by the row's figure");
return 0;

async Task<double> RunAsync(string name, Func<int, Task<HttpResponseMessage>> send)
{
    Console.Error.WriteLine($"running {name} for {seconds} s ...");
    long done = 0, failed = 0;
    var watch = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, clients).Select(async worker =>
    {
        while (watch.Elapsed < duration)
        {
            using var response = await send(worker);
            await response.Content.ReadAsByteArrayAsync();
            if (response.IsSuccessStatusCode) Interlocked.Increment(ref done);
            else Interlocked.Increment(ref failed);
        }
    }).ToArray();
    await Task.WhenAll(workers);
    var elapsed = watch.Elapsed.TotalSeconds;
    if (failed > 0) throw new InvalidOperationException($"{name}: {failed} requests failed");
    return done / elapsed;
}

static double RawSqliteCommits(string path, TimeSpan duration)
{
    Console.Error.WriteLine($"running raw SQLite commits for {duration.TotalSeconds:0} s ...");
    using var connection = new SqliteConnection($"Data Source={path}");
    connection.Open();
    Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (id TEXT PRIMARY KEY, payload TEXT NOT NULL);");
    var payload = new string('x', 1500); // about a stored certificate
    long count = 0;
    var watch = Stopwatch.StartNew();
    while (watch.Elapsed < duration)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO t (id, payload) VALUES ($id, $payload)";
        insert.Parameters.AddWithValue("$id", Guid.NewGuid().ToString("D"));
        insert.Parameters.AddWithValue("$payload", payload);
        insert.ExecuteNonQuery();
        transaction.Commit();
        count++;
    }
    return count / watch.Elapsed.TotalSeconds;
}

static void Execute(SqliteConnection connection, string sql)
{
    using var command = connection.CreateCommand();
    command.CommandText = sql;
    command.ExecuteNonQuery();
}

int Flag(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
