using System.CommandLine;
using System.Globalization;
using KmsCluster.Cli.Load;
using KmsCluster.Client.Connection;
using KmsCluster.Domain;
using KmsCluster.Protocol.Catalog;
using Spectre.Console;

namespace KmsCluster.Cli;

/// <summary><c>kms load</c>: a load generator for KmsCluster hosts (closed loop, open loop, or a simulated fleet).</summary>
internal static class LoadCommand
{
    public const string Prefix = "kms load: ";
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(30);
    private const int MaxClients = 1_000_000;
    private const int MaxConnections = 4096;
    private const int MaxPipeline = 4096;
    private const double MaxRate = 10_000_000;
    private const double MaxTimeScale = 100_000_000;

    public static Command Create(CliOutput output)
    {
        var server = new Option<string[]>("--server")
        {
            Description = "host to load, HOST[:PORT] (default port 1688); repeat for several: connections go round robin, fleet clients fail over; or use --discover",
        };
        var clients = new Option<int>("--clients") { Description = "distinct simulated machines (CMIDs) cycled through; in --fleet the machines", DefaultValueFactory = _ => 100_000 };
        var connections = new Option<int>("--connections") { Description = "TCP connections (in --fleet: clients, each with its own connection; with --connect-per-request: requests in flight, each on a new connection)", DefaultValueFactory = _ => 8 };
        var pipeline = new Option<int>("--pipeline") { Description = "requests in flight per connection", DefaultValueFactory = _ => 16 };
        var duration = new Option<string?>("--duration") { Description = "how long to run: 30s, 2m, 500ms or seconds (default 30s)" };
        var requests = new Option<long?>("--requests") { Description = "stop after this many requests instead of a duration" };
        var warmup = new Option<string?>("--warmup") { Description = "the run's first part, not reported: the load runs this long first on the same connections and schedule, then --duration is measured (not with --fleet or --requests)" };
        var rate = new Option<string?>("--rate") { Description = "open loop: requests per second in total, at fixed intervals; latency counts from the scheduled time" };
        var product = new Option<string[]>("--product") { Description = "edition (slug, id or name from `kms products`); repeat for several; default: the fleet mix" };
        var seed = new Option<long>("--seed") { Description = "seed of the simulated machines' CMIDs and editions; the same seed hits the same machines", DefaultValueFactory = _ => 1 };
        var timeout = new Option<string>("--timeout") { Description = "longest wait for one answer (10s)", DefaultValueFactory = _ => "10s" };
        var fleet = new Option<bool>("--fleet") { Description = "simulate a fleet: machines activate, retry on the activation interval, renew on the renewal interval" };
        var timeScale = new Option<string?>("--time-scale") { Description = "fleet: simulated seconds per real second (86400 = one day per second; default 1)" };
        var connectPerRequest = new Option<bool>("--connect-per-request")
        {
            Description = "open a TCP connection for each request and close it after the answer, as KMS clients do; --connections are then the requests in flight (--pipeline must be 1)",
        };
        var protocol = new Option<int>("--protocol")
        {
            Description = "protocol version: 2 (a nonce per request, signed answers; answers are not checked, so the run measures the host) or 1 (unsigned, for a host started with --allow-unsigned)",
            DefaultValueFactory = _ => 2,
        };
        var bootStorm = new Option<bool>("--boot-storm") { Description = "fleet: every machine asks at the start (default: starts spread over the first activation interval)" };
        var json = new Option<string?>("--json") { Description = "also write the report as JSON to FILE" };
        var html = new Option<string?>("--html") { Description = "also write an HTML page with charts to FILE" };
        var discover = DiscoveryFlags.DiscoverOption();
        var dnsServer = DiscoveryFlags.DnsServerOption();

        var command = new Command("load", "load hosts with activation requests and report throughput and latency")
        {
            server, discover, dnsServer, clients, connections, pipeline, connectPerRequest, duration, requests, warmup, rate, product, seed, timeout, fleet,
            timeScale, bootStorm, json, html, protocol,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            LoadOptions options;
            Fleet machines;
            try
            {
                var fleetMode = result.GetValue(fleet);
                var rateText = result.GetValue(rate);
                var durationText = result.GetValue(duration);
                var requestCount = result.GetValue(requests);
                var timeScaleText = result.GetValue(timeScale);
                var perRequest = result.GetValue(connectPerRequest);
                if (durationText is not null && requestCount is not null)
                {
                    throw new UsageException("give --duration or --requests, not both");
                }
                if (fleetMode && rateText is not null)
                {
                    throw new UsageException("--rate is for the open loop; --fleet machines ask on their own schedule");
                }
                var warmupText = result.GetValue(warmup);
                if (fleetMode && warmupText is not null)
                {
                    throw new UsageException("--warmup is for the closed and open loops; a fleet's start is part of what it simulates");
                }
                if (warmupText is not null && requestCount is not null)
                {
                    throw new UsageException("--warmup goes with --duration, not --requests");
                }
                if (!fleetMode && (timeScaleText is not null || result.GetValue(bootStorm)))
                {
                    throw new UsageException("--time-scale and --boot-storm need --fleet");
                }
                var depth = Range(result.GetValue(pipeline), "--pipeline", MaxPipeline);
                if (perRequest && depth != 1 && result.GetResult(pipeline) is { Implicit: false })
                {
                    throw new UsageException($"--connect-per-request sends one request per connection: --pipeline must be 1 (or left out), got {depth}");
                }
                // --discover: the hosts published in DNS in RFC 2782 order, looked up at the start; fleet clients
                // look DNS up again when their hosts fail, as `kms activate --discover` does.
                var (servers, discovery) = await DiscoveryFlags.ServersAsync(result.GetValue(server), result.GetValue(discover),
                    result.GetValue(dnsServer), cancellationToken);
                options = new LoadOptions
                {
                    Servers = servers,
                    Discovery = discovery,
                    Mode = fleetMode ? LoadMode.Fleet : rateText is null ? LoadMode.Closed : LoadMode.Open,
                    Clients = Range(result.GetValue(clients), "--clients", MaxClients),
                    Connections = Range(result.GetValue(connections), "--connections", MaxConnections),
                    // A connection per request carries one: the default depth does not apply.
                    Pipeline = perRequest ? 1 : depth,
                    ConnectPerRequest = perRequest,
                    ProtocolVersion = result.GetValue(protocol) is 1 or 2
                        ? (byte)result.GetValue(protocol) : throw new UsageException($"--protocol: 1 or 2, got {result.GetValue(protocol)}"),
                    Duration = requestCount is null ? durationText is null ? DefaultDuration : Duration(durationText, "--duration") : null,
                    Requests = requestCount is { } n ? n > 0 ? n : throw new UsageException($"--requests: must be more than 0, got {n}") : null,
                    Warmup = warmupText is null ? null : Duration(warmupText, "--warmup"),
                    Rate = rateText is null ? null : Positive(rateText, "--rate", MaxRate),
                    Seed = result.GetValue(seed),
                    Timeout = Duration(result.GetValue(timeout)!, "--timeout"),
                    TimeScale = timeScaleText is null ? 1 : Positive(timeScaleText, "--time-scale", MaxTimeScale),
                    BootStorm = result.GetValue(bootStorm),
                };
                var catalog = ProductCatalog.Default;
                var only = (result.GetValue(product) ?? []).Select(text => catalog.FindProduct(text) ?? throw new UsageException(
                    $"unknown product \"{text}\"; closest: {string.Join(", ", catalog.SuggestProducts(text))} (see `kms products`)")).ToArray();
                CheckWritable(result.GetValue(json), "--json");
                CheckWritable(result.GetValue(html), "--html");
                machines = new Fleet(options.Clients, options.Seed, Fleet.Mix(catalog, only));
            }
            catch (UsageException e)
            {
                return Fail(output, ExitCodes.Usage, e.Message);
            }
            catch (KmsConnectionException e)
            {
                return Fail(output, ExitCodes.Unreachable, e.Message);
            }

            LoadResult run;
            try
            {
                run = await RunAsync(output, options, machines, cancellationToken);
            }
            catch (LoadUnreachableException e)
            {
                return Fail(output, ExitCodes.Unreachable, e.Message);
            }
            catch (OperationCanceledException)
            {
                return Fail(output, ExitCodes.Unreachable, "stopped before the run started");
            }

            LoadReport.WriteText(output.Out, run);
            try
            {
                if (result.GetValue(json) is { } jsonPath)
                {
                    await File.WriteAllTextAsync(jsonPath, LoadReport.ToJson(run) + Environment.NewLine, CancellationToken.None);
                }
                if (result.GetValue(html) is { } htmlPath)
                {
                    await File.WriteAllTextAsync(htmlPath, HtmlReport.Render(run), CancellationToken.None);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail(output, ExitCodes.Usage, $"cannot write the report: {e.Message}");
            }
            if (run.Summary.Responses == 0)
            {
                var why = run.Summary.Connects is { Failed: > 0 } connects
                    ? $"{connects.Failed} connections failed: {LoadReport.Errors(connects.Errors)}"
                    : run.Summary.Errors.TryGetValue(LoadStats.NoAnswer, out var lost)
                        ? $"{lost} requests got no answer"
                        : "no request was answered";
                return Fail(output, ExitCodes.Unreachable, $"nothing answered during the run ({why})");
            }
            return 0;
        });
        return command;
    }

    /// <summary>The run, with a live progress line on a terminal (nothing when output is redirected).</summary>
    private static async Task<LoadResult> RunAsync(CliOutput output, LoadOptions options, Fleet machines, CancellationToken cancellationToken)
    {
        var capabilities = output.Ansi.Profile.Capabilities;
        if (!capabilities.Interactive || !capabilities.Ansi)
        {
            return await LoadRun.RunAsync(options, machines, null, cancellationToken);
        }
        LoadResult? run = null;
        await output.Ansi.Live(new Markup($"[grey]kms load: connecting to {Markup.Escape(string.Join(", ", options.Servers))}...[/]"))
            .AutoClear(true)
            .StartAsync(async live =>
            {
                run = await LoadRun.RunAsync(options, machines, progress =>
                {
                    live.UpdateTarget(Progress(progress));
                    live.Refresh();
                }, cancellationToken);
            });
        return run!;
    }

    private static Rows Progress(LoadProgress p)
    {
        static string Ms(double? value) => value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) + " ms" : "-";
        var errors = p.Errors > 0 ? $"[red]{p.Errors} errors[/]" : "0 errors";
        if (p.ConnectErrors > 0)
        {
            errors += $"  [red]{p.ConnectErrors} connect errors[/]";
        }
        return new Rows(
            new Markup(string.Create(CultureInfo.InvariantCulture,
                $"[bold]{p.Elapsed.TotalSeconds:0} s[/]  {p.LastSecond.Responses} req/s  {p.Responses} responses  {errors}  p50 {Ms(p.P50Ms)}  p99 {Ms(p.P99Ms)}")),
            new Markup("[grey]so far; Ctrl+C stops the run and reports[/]"));
    }

    private static int Fail(CliOutput output, int exitCode, string message)
    {
        output.Error.WriteLine(Prefix + message.ReplaceLineEndings(" "));
        return exitCode;
    }

    private static int Range(int value, string name, int max) =>
        value >= 1 && value <= max ? value : throw new UsageException($"{name}: must be from 1 to {max}, got {value}");

    private static TimeSpan Duration(string text, string name) =>
        TryParseDuration(text, out var duration, out var error) ? duration : throw new UsageException($"{name}: {error}");

    /// <summary>A run's duration or timeout: more than zero and at most 30 days; a bare number is seconds.</summary>
    internal static bool TryParseDuration(string? text, out TimeSpan duration, out string error)
    {
        if (!Durations.TryParse(text, "s", out duration, out error))
        {
            return false;
        }
        error = duration <= TimeSpan.Zero ? $"\"{text}\" must be more than zero"
            : duration > TimeSpan.FromDays(30) ? $"\"{text}\" is longer than 30 days"
            : "";
        return error.Length == 0;
    }

    private static double Positive(string text, string name, double max)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw new UsageException($"{name}: \"{text}\" is not a number");
        }
        if (value <= 0 || value > max)
        {
            throw new UsageException($"{name}: must be more than 0 and at most {max.ToString(CultureInfo.InvariantCulture)}, got {text}");
        }
        return value;
    }

    private static void CheckWritable(string? path, string name)
    {
        if (path is null)
        {
            return;
        }
        var directory = path.Length == 0 ? null : Path.GetDirectoryName(Path.GetFullPath(path));
        if (path.Length == 0 || Directory.Exists(path) || (directory is not null && !Directory.Exists(directory)))
        {
            throw new UsageException($"{name}: cannot write \"{path}\" (no such directory, or a directory)");
        }
    }
}
