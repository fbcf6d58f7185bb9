using System.Collections.Concurrent;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>
/// Full windows answer on every node from grants (src/Actors/Grants): while a window is full, each node answers
/// the requests its grant covers at once ("count = capacity, activated") and the contacts follow to the window.
/// Real nodes, real PostgreSQL, real sockets: the window's owner killed under load, PostgreSQL stopped, and a
/// higher threshold that must revoke the grants on every node before it is answered.
/// </summary>
public sealed class FullWindowTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    /// <summary>The longest wait for one answer on a connection of the test's own: beyond any node's window timeout.</summary>
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);

    // Server and Office editions ask for 5 machines: their windows keep 10. A Windows client edition asks for 25:
    // once one has asked, the Windows window keeps 50.
    private const string ServerEdition = "windows-server-2022-standard";
    private const string ClientEdition = "windows-11-pro";
    private const string OfficeEdition = "office-ltsc-2021-standard";
    private const int Capacity = 10;

    [Fact]
    public async Task Survivors_answer_a_full_window_through_its_owners_kill_and_every_contact_they_answered_becomes_durable()
    {
        await using var database = await PostgresServer.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 3);
        await cluster.RunAsync(async () =>
        {
            var owner = await cluster.OwnerIndexAsync("windows", Settle);
            var victim = cluster.Nodes[owner]!;
            var survivors = cluster.Running.Where(n => n != victim).ToList();
            var (machines, asked) = await FillWindowsAsync(survivors);

            // The load reaches the survivors only (requests on the killed node's own connections fail by construction).
            // Each worker's client may move from one survivor to the other, and any such move counts as a failure.
            // The same ten machines again and again: the window stays full, and each one's latest answer must end up durable.
            await using var load = new ContactLoad(survivors.Select(n => n.ActivationEndpoint).ToList(), workers: 4,
                ContactLoad.Pool(machines, ServerEdition), alreadySent: machines);
            load.Start();
            await load.WaitForAnsweredAsync(200, Settle);

            victim.Kill();
            var beforeKill = survivors.ToDictionary(n => n.Name, n => load.AnsweredBy(n.Name));
            // The window moves to a survivor (every running node Up, the window answers there); the load goes on beyond.
            var newOwner = await cluster.OwnerIndexAsync("windows", Settle);
            Assert.NotEqual(owner, newOwner);
            await load.WaitForAnsweredAsync(load.Answered + 200, Settle);
            await load.StopAsync();

            // No request to a survivor failed, timed out or moved to the other one; every answer said count 10, activated.
            WindowAssert.AnsweredEveryRequestFull(load, Capacity);
            Assert.All(survivors, n => Assert.True(load.AnsweredBy(n.Name) > beforeKill[n.Name], $"{n.Name} answered nothing after the kill"));
            // Every contact the survivors answered reached the journal: the window counts the fill and every answer, and
            // each machine's latest answer is stored. (The killed node took no load, so it had no contact of its own to lose.)
            await HoldsEveryAnsweredContactAsync(load, survivors[0], asked);
        });
    }

    [Fact]
    public async Task While_PostgreSQL_is_down_a_full_window_answers_on_every_node_and_one_that_is_not_full_asks_to_retry()
    {
        await using var database = await PostgresServer.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 2);
        await cluster.RunAsync(async () =>
        {
            await cluster.OwnerIndexAsync("windows", Settle);
            await cluster.OwnerIndexAsync("office", Settle);
            var nodes = cluster.Running;
            await FillAsync(nodes[1], OfficeEdition, 3); // the Office window keeps 10: not full
            var (machines, asked) = await FillWindowsAsync(nodes);

            await using var load = new ContactLoad(nodes.Select(n => n.ActivationEndpoint).ToList(), workers: 4,
                ContactLoad.Pool(machines, ServerEdition), alreadySent: machines);
            load.Start();
            await load.WaitForAnsweredAsync(100, Settle);

            await database.StopAsync();
            var beforeOutage = nodes.ToDictionary(n => n.Name, n => load.AnsweredBy(n.Name));
            using var outage = new CancellationTokenSource();
            var office = nodes.ToDictionary(n => n.Name, _ => new ConcurrentQueue<ActivationResult>());
            var officeRequests = nodes.Select(n => AskUntilAsync(n, OfficeEdition, office[n.Name], outage.Token)).ToArray();
            // A few seconds, well within the 30 s lease: until every node has answered the full window many times with
            // the database down, and has answered requests for the other window too.
            await Task.WhenAll(Task.Delay(TimeSpan.FromSeconds(3)), EventuallyAsync(
                () => nodes.All(n => load.AnsweredBy(n.Name) - beforeOutage[n.Name] >= 20 && !office[n.Name].IsEmpty),
                TimeSpan.FromSeconds(12),
                () => string.Join(", ", nodes.Select(n => $"{n.Name}: {load.AnsweredBy(n.Name) - beforeOutage[n.Name]} answers, {office[n.Name].Count} office results"))));
            await outage.CancelAsync();
            await Task.WhenAll(officeRequests);
            // Stopped before PostgreSQL is back: the answers counted since it stopped (but the few already on their
            // way then) were given during the outage.
            await load.StopAsync();
            await database.StartAgainAsync();

            WindowAssert.AnsweredEveryRequestFull(load, Capacity);
            Assert.All(nodes, node => Assert.All(office[node.Name], result =>
            {
                Assert.True(result.IsError, $"{node.Name} answered the window that is not full with the database down: {result}");
                Assert.Equal(ErrorCode.WindowUnavailable, result.Error.Code);
                Assert.True(result.Error.IsRetryable);
            }));
            // The contacts answered during the outage reach the journal once PostgreSQL is back.
            await HoldsEveryAnsweredContactAsync(load, nodes[1], asked);
        });
    }

    [Fact]
    public async Task A_higher_threshold_waits_until_every_node_revoked_its_grant_and_no_node_answers_from_it_afterwards()
    {
        await using var database = await PostgresServer.StartAsync();
        // A window timeout well below the lease (30 s, and the window's 2 s margin): the raise is answered only if
        // every node confirms the revocation; a window that waited out the lease instead would time the request out.
        await using var cluster = await LocalCluster.StartAsync(database, "kms", 3, null, "--window-timeout", "15s");
        await cluster.RunAsync(async () =>
        {
            var owner = await cluster.OwnerIndexAsync("windows", Settle);
            var nodes = cluster.Running;
            await FillWindowsAsync(nodes);

            // A new client machine on another node than the owner: ten machines counted, and now this one.
            var raise = await AnsweredAsync(nodes[(owner + 1) % nodes.Count], ClientEdition, Guid.NewGuid());
            Assert.Equal((11, 25, false), ((int)raise.CurrentCount, (int)raise.Threshold, raise.Activated));
            // The owner's log says so (its output reaches this process a moment after the answer).
            await EventuallyAsync(() => nodes[owner].Output.Contains("revoking its grants first", StringComparison.Ordinal), Settle,
                () => $"{nodes[owner].Name} did not log a revocation");

            // No node still answers from the grant of capacity 10: each new machine is counted on the durable path.
            var expected = 12;
            foreach (var node in nodes)
            {
                var answer = await AnsweredAsync(node, ServerEdition, Guid.NewGuid());
                Assert.True((expected, true) == (answer.CurrentCount, answer.Activated),
                    $"{node.Name} answered count {answer.CurrentCount}, activated {answer.Activated}; expected {expected} from the durable window");
                expected++;
            }
            var window = await StoredWindow.ReadAsync(nodes[owner], "windows");
            Assert.Equal((expected - 1, 50), (window.Count, window.Capacity));
        });
    }

    /// <summary>Fills the Windows window with ten Server machines through the first of <paramref name="nodes"/>, then
    /// checks that each of <paramref name="nodes"/> answers it from a grant. Returns the machines, and how many
    /// requests the window was sent.</summary>
    private static async Task<(Guid[] Machines, int Asked)> FillWindowsAsync(IReadOnlyList<NodeProcess> nodes)
    {
        var machines = await FillAsync(nodes[0], ServerEdition, Capacity);
        var asked = Capacity;
        foreach (var node in nodes) asked += await AnswersFromItsGrantAsync(node, machines);
        return (machines, asked);
    }

    /// <summary>The full Windows window, read through <paramref name="node"/>, ends up counting the
    /// <paramref name="asked"/> requests sent before the load and every answer of the load, and holding each machine's
    /// latest answer: every contact answered from a grant reached the journal.</summary>
    private static async Task HoldsEveryAnsweredContactAsync(ContactLoad load, NodeProcess node, int asked)
    {
        var window = await WindowAssert.EventuallyHoldsEveryAcknowledgedContactAsync(load, node, "windows", asked + load.Answered, Settle);
        Assert.Equal((Capacity, Capacity), (window.Count, window.Capacity));
    }

    /// <summary>Sends <paramref name="count"/> new machines through <paramref name="node"/>, one after the other: the
    /// window is not full yet, so each is durable before its answer, counted 1, 2, ... Returns the machines.</summary>
    private static async Task<Guid[]> FillAsync(NodeProcess node, string product, int count)
    {
        var machines = Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToArray();
        for (var i = 0; i < count; i++)
        {
            var answer = await AnsweredAsync(node, product, machines[i]);
            Assert.Equal((i + 1, i + 1 >= answer.Threshold), ((int)answer.CurrentCount, answer.Activated));
        }
        return machines;
    }

    /// <summary>
    /// Asks <paramref name="node"/> about the full window's machines again, one after the other with nothing else going
    /// on, until an answer is shown to come from the node's grant, so that a test relies on grants it knows are there:
    /// the durable path answers with the time it stores the contact, while a contact answered from a grant is stored
    /// when it reaches the window, a little later (rarely within the same millisecond). A node that joined a moment ago
    /// may hear of the window's grants only at their next renewal (a third of the lease): its gateway's subscription
    /// reaches the owner's pub-sub mediator by gossip. Returns how many requests it sent.
    /// </summary>
    private static async Task<int> AnswersFromItsGrantAsync(NodeProcess node, IReadOnlyList<Guid> machines)
    {
        var deadline = DateTime.UtcNow + Settle;
        for (var asked = 1; ; asked++)
        {
            var machine = machines[(asked - 1) % machines.Count];
            var answer = await AnsweredAsync(node, ServerEdition, machine);
            Assert.Equal((Capacity, true), ((int)answer.CurrentCount, answer.Activated));
            var window = await StoredWindow.ReadWhenAsync(node, "windows",
                w => w.Contacts.Any(c => c.Cmid == machine && c.LastContactMilliseconds >= answer.HostTime), Settle);
            var stored = Assert.Single(window.Contacts, c => c.Cmid == machine);
            Assert.True(stored.LastContactMilliseconds >= answer.HostTime,
                $"{machine} answered by {node.Name} at {answer.HostTime:O} never reached the window (stored {stored.LastContact:O})");
            if (stored.LastContactMilliseconds > answer.HostTime) return asked;
            Assert.True(DateTime.UtcNow < deadline,
                $"{node.Name} answered {asked} requests for the full window in {Settle.TotalSeconds:0} s, none of them from a grant");
            await Task.Delay(200);
        }
    }

    /// <summary>One request on a connection of its own to <paramref name="node"/>; fails the test unless it is answered.</summary>
    private static async Task<ActivationResponse> AnsweredAsync(NodeProcess node, string product, Guid machine)
    {
        await using var connection = await node.OpenConnectionAsync();
        var result = await connection.ActivateAsync(Requests.For(product, machine), AnswerTimeout);
        Assert.False(result.IsError, $"{node.Name}: {result}");
        return result.Response;
    }

    /// <summary>Asks <paramref name="node"/> about new machines of <paramref name="product"/>, one after the other on one
    /// connection, until <paramref name="stop"/>; every answer or error joins <paramref name="results"/>.</summary>
    private static async Task AskUntilAsync(NodeProcess node, string product, ConcurrentQueue<ActivationResult> results,
        CancellationToken stop)
    {
        await using var connection = await node.OpenConnectionAsync();
        while (!stop.IsCancellationRequested)
        {
            results.Enqueue(await connection.ActivateAsync(Requests.For(product), AnswerTimeout));
        }
    }

    private static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, Func<string> state)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {timeout.TotalSeconds:0} s: {state()}");
            await Task.Delay(100);
        }
    }
}
