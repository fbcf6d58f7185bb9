using System.Collections.Concurrent;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>What a client was told about one machine: its latest acknowledged contact.</summary>
public sealed record Acknowledged(Guid Cmid, int Count, bool Activated, DateTimeOffset RecordedAt, string Host);

/// <summary>
/// Simulated clients driving activations through several nodes at once, each worker with its own
/// <see cref="KmsClient"/> over every node (starting at a different one, so load reaches all of them and
/// fails over when one dies). Records every acknowledged contact, every error, and every answer that breaks
/// the model (a false activation, a count larger than the machines ever sent).
/// </summary>
public sealed class ContactLoad : IAsyncDisposable
{
    private readonly List<KmsClient> _clients = [];
    private readonly Func<long, (Guid Cmid, Product Product)?> _nextContact;
    private readonly ConcurrentDictionary<Guid, Acknowledged> _acknowledged = new();
    private readonly ConcurrentBag<DateTimeOffset> _recordedAt = [];
    private readonly ConcurrentDictionary<Guid, byte> _sent = new();
    private readonly ConcurrentBag<string> _violations = [];
    private readonly ConcurrentDictionary<string, int> _errors = new();
    private readonly ConcurrentDictionary<(string Host, int Count, bool Activated), long> _answers = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private long _sequence;
    private long _answered;

    /// <param name="nextContact">The contact for the n-th request, or null when there are no more.</param>
    /// <param name="alreadySent">Machines the test sent itself before the load: the counts may include them.</param>
    public ContactLoad(IReadOnlyList<string> endpoints, int workers, Func<long, (Guid Cmid, Product Product)?> nextContact,
        KmsClientOptions? options = null, IEnumerable<Guid>? alreadySent = null)
    {
        _nextContact = nextContact;
        foreach (var machine in alreadySent ?? []) _sent.TryAdd(machine, 0);
        var servers = endpoints.Select(ServerAddress.Parse).ToArray();
        for (var i = 0; i < workers; i++)
        {
            // Rotate the list: worker i starts at node i.
            var rotated = servers.Skip(i % servers.Length).Concat(servers.Take(i % servers.Length)).ToArray();
            _clients.Add(new KmsClient(rotated, options ?? new KmsClientOptions { Deadline = TimeSpan.FromSeconds(30) }));
        }
    }

    /// <summary>Contacts of a fixed pool of machines, picked at random, all of one product.</summary>
    public static Func<long, (Guid, Product)?> Pool(IReadOnlyList<Guid> machines, string productSlug)
    {
        var product = Requests.Product(productSlug);
        return _ => (machines[Random.Shared.Next(machines.Count)], product);
    }

    /// <summary>A new machine for every request, <paramref name="total"/> in all.</summary>
    public static Func<long, (Guid, Product)?> NewMachines(long total, string productSlug)
    {
        var product = Requests.Product(productSlug);
        return n => n < total ? (Guid.NewGuid(), product) : null;
    }

    public long Answered => Interlocked.Read(ref _answered);
    public IReadOnlyDictionary<Guid, Acknowledged> AcknowledgedContacts => _acknowledged;
    public IReadOnlyCollection<Guid> Sent => (IReadOnlyCollection<Guid>)_sent.Keys;
    public IReadOnlyCollection<string> Violations => _violations;

    /// <summary>Errors by name: an error code (window-unavailable...) or "unreachable" (no server answered).</summary>
    public IReadOnlyDictionary<string, int> Errors => _errors;

    /// <summary>Every answer, counted by the host that gave it and what it said (count, activated).</summary>
    public IReadOnlyDictionary<(string Host, int Count, bool Activated), long> Answers => _answers;

    /// <summary>The answers the host named <paramref name="host"/> gave so far.</summary>
    public long AnsweredBy(string host) => _answers.Where(a => a.Key.Host == host).Sum(a => a.Value);

    /// <summary>How many times a worker's client moved to another host after a failure (a connection that failed,
    /// no answer in time, a retryable error): failures that its retries kept out of <see cref="Errors"/>.</summary>
    public long Failovers => _clients.Sum(c => c.FailoverCount);

    public void Start()
    {
        foreach (var client in _clients)
        {
            _workers.Add(Task.Run(() => WorkAsync(client)));
        }
    }

    /// <summary>Waits until <paramref name="answered"/> requests have been acknowledged in all.</summary>
    public async Task WaitForAnsweredAsync(long answered, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Answered < answered)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"only {Answered} of {answered} requests acknowledged within {timeout.TotalSeconds:0} s; errors: {Describe(Errors)}");
            }
            if (_workers.All(w => w.IsCompleted))
            {
                throw new InvalidOperationException($"the load ended at {Answered} acknowledged requests: {string.Join("; ", _workers.Where(w => w.IsFaulted).Select(w => w.Exception!.GetBaseException().Message))}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Stops sending and waits for the answers still due.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    /// <summary>The acknowledged contacts answered by the host named <paramref name="host"/> since
    /// <paramref name="since"/> (the window's clock).</summary>
    public int AcknowledgedBy(Func<string, bool> host, DateTimeOffset since) =>
        _acknowledged.Values.Count(a => host(a.Host) && a.RecordedAt >= since);

    /// <summary>When the window recorded the first contact acknowledged since <paramref name="since"/> (the
    /// window's clock), or null when none was.</summary>
    public DateTimeOffset? FirstAcknowledgedSince(DateTimeOffset since) =>
        _recordedAt.Where(at => at >= since).Select(at => (DateTimeOffset?)at).Min();

    private async Task WorkAsync(KmsClient client)
    {
        while (!_stop.IsCancellationRequested)
        {
            var next = _nextContact(Interlocked.Increment(ref _sequence) - 1);
            if (next is not { } contact) return;
            var request = Requests.For(contact.Product.Slug, contact.Cmid);
            _sent.TryAdd(contact.Cmid, 0);
            var sentBefore = _sent.Count;
            try
            {
                var result = await client.ActivateAsync(request);
                if (result.IsError)
                {
                    _errors.AddOrUpdate(result.Error.Code.Name(), 1, (_, n) => n + 1);
                    if (!result.Error.IsRetryable)
                    {
                        _violations.Add($"non-retryable error for {contact.Cmid}: {result.Error.Code.Name()} {result.Error.Message}");
                    }
                    continue;
                }
                var response = result.Response;
                // A false activation: activated below the threshold, or a count that more machines than were
                // ever sent could not explain.
                if (response.Activated != (response.CurrentCount >= response.Threshold) || response.CurrentCount > Math.Max(sentBefore, _sent.Count))
                {
                    _violations.Add($"{contact.Cmid}: count {response.CurrentCount}/{response.Threshold} activated {response.Activated} with {_sent.Count} machines sent");
                }
                _acknowledged.AddOrUpdate(contact.Cmid,
                    _ => new Acknowledged(contact.Cmid, response.CurrentCount, response.Activated, response.HostTime, response.HostName),
                    (_, previous) => previous.RecordedAt >= response.HostTime ? previous
                        : new Acknowledged(contact.Cmid, response.CurrentCount, response.Activated, response.HostTime, response.HostName));
                _answers.AddOrUpdate((response.HostName, response.CurrentCount, response.Activated), 1, (_, n) => n + 1);
                _recordedAt.Add(response.HostTime);
                Interlocked.Increment(ref _answered);
            }
            catch (KmsConnectionException)
            {
                _errors.AddOrUpdate("unreachable", 1, (_, n) => n + 1);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    private static string Describe(IReadOnlyDictionary<string, int> errors) =>
        errors.Count == 0 ? "none" : string.Join(", ", errors.Select(e => $"{e.Key} {e.Value}"));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll(_workers).WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (Exception)
        {
            // The test already failed or stopped the load.
        }
        foreach (var client in _clients) await client.DisposeAsync();
        _stop.Dispose();
    }
}
