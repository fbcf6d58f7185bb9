using System.Diagnostics;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Testing.Chaos;

/// <summary>
/// The chaos run's clients: <c>workers</c> simulated clients, each a <see cref="KmsClient"/> over every node that
/// fails over and finds the running nodes again (<see cref="ClusterDiscovery"/>), sending the <see cref="Fleet"/>'s
/// contacts with a short pause between requests; every request and its outcome goes to the recorder.
/// </summary>
public sealed class FleetLoad : IAsyncDisposable
{
    private readonly LocalCluster _cluster;
    private readonly Fleet _fleet;
    private readonly HistoryRecorder _recorder;
    private readonly ChaosOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private readonly Stopwatch _clock = new();

    public FleetLoad(LocalCluster cluster, Fleet fleet, HistoryRecorder recorder, ChaosOptions options)
    {
        _cluster = cluster;
        _fleet = fleet;
        _recorder = recorder;
        _options = options;
    }

    public void Start()
    {
        _clock.Start();
        for (var i = 0; i < _options.Workers; i++)
        {
            var worker = i;
            _workers.Add(Task.Run(() => WorkAsync(worker)));
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    private async Task WorkAsync(int worker)
    {
        var random = new Random(HashCode.Combine(_options.Seed, worker));
        var servers = ClusterDiscovery.Current(_cluster);
        // Worker i starts at node i, so the load reaches every node.
        var rotated = servers.Skip(worker % servers.Length).Concat(servers.Take(worker % servers.Length)).ToArray();
        await using var client = new KmsClient(rotated, _options.Client, new ClusterDiscovery(_cluster));
        while (!_stop.IsCancellationRequested)
        {
            var (machine, firstSend) = _fleet.Next(_clock.Elapsed, random);
            await SendAsync(client, worker, machine, firstSend);
            try
            {
                await Task.Delay(_options.PauseBetweenRequests, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SendAsync(KmsClient client, int worker, FleetMachine machine, bool firstSend)
    {
        var id = _recorder.NextId();
        var product = machine.Product;
        var failoversBefore = client.FailoverCount;
        var sentAt = DateTimeOffset.UtcNow;
        RequestRecord Record(RequestOutcome outcome, string? server) => new(id, worker, machine.Cmid, product.Application.Slug,
            product.Slug, product.Threshold, firstSend, sentAt, DateTimeOffset.UtcNow, server, client.FailoverCount - failoversBefore, outcome);
        try
        {
            var answer = await client.RequestAsync(Requests.For(product.Slug, machine.Cmid));
            var result = answer.Result;
            _recorder.Add(result.IsError
                ? Record(RequestOutcome.Refused, answer.Server.ToString()) with
                {
                    Error = result.Error.Code.Name(), Retryable = result.Error.IsRetryable,
                }
                : Record(RequestOutcome.Answered, answer.Server.ToString()) with
                {
                    Count = result.Response.CurrentCount, Activated = result.Response.Activated,
                    HostName = result.Response.HostName, HostTime = result.Response.HostTime,
                });
        }
        catch (KmsConnectionException e)
        {
            _recorder.Add(Record(RequestOutcome.Unreachable, client.CurrentServer.ToString()) with { Error = e.Message });
        }
        catch (Exception e) when (e is not OperationCanceledException || !_stop.IsCancellationRequested)
        {
            // Not an outcome the client promises: recorded as such, for the report to show.
            _recorder.Add(Record(RequestOutcome.ClientFailure, client.CurrentServer.ToString()) with { Error = $"{e.GetType().Name}: {e.Message}" });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_workers).WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (Exception)
        {
            // Stopped already, or the run failed.
        }
        _stop.Dispose();
    }
}
