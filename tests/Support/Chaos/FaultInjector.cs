using KmsCluster.Protocol.Admin;

namespace KmsCluster.Testing.Chaos;

/// <summary>A fault as it was injected: when, on which node, and what the injector saw.</summary>
public sealed record FaultRecord(FaultStep Step, DateTimeOffset StartedAt, DateTimeOffset EndedAt, string Target, bool Injected,
    IReadOnlyList<string> Notes);

/// <summary>
/// Injects one <see cref="FaultStep"/> into a running cluster, then brings it back: every node that is not running is
/// started again, and the injector waits until every node is Up and both windows have an owner. What goes wrong in
/// the recovery (a woken node that stays or exits with a code other than 1, a SIGTERM with one other than 0, a node that
/// does not start, a cluster that does not settle) is a
/// <see cref="Invariants.FaultRecovery"/> violation.
/// </summary>
public sealed class FaultInjector(LocalCluster cluster, PostgresServer database, IPartitioner? partitioner, ChaosOptions options,
    NodeLogs logs)
{
    private readonly List<Violation> _problems = [];

    public IReadOnlyList<Violation> Problems => _problems;

    public async Task<FaultRecord> InjectAsync(FaultStep step)
    {
        var started = DateTimeOffset.UtcNow;
        var notes = new List<string>();
        var target = step.Target;
        var injected = true;
        var index = -1;
        if (step.Kind is FaultKind.Kill or FaultKind.Freeze or FaultKind.Restart)
        {
            index = await ResolveAsync(step.Node);
            target = $"node{index}";
        }
        switch (step.Kind)
        {
            case FaultKind.Kill or FaultKind.Freeze or FaultKind.Restart when cluster.Nodes[index] is not { HasExited: false }:
                // Only after a recovery that failed (a problem already): nothing to hit.
                injected = false;
                notes.Add("skipped: the node is not running");
                break;
            case FaultKind.Kill:
            {
                cluster.Nodes[index]!.Kill();
                await Task.Delay(step.Hold);
                break;
            }
            case FaultKind.Freeze:
            {
                var node = cluster.Nodes[index]!;
                node.Freeze();
                await Task.Delay(step.Hold);
                node.Thaw();
                try
                {
                    // Downed while frozen (or fenced by its own watchdog): it must leave by itself.
                    await node.WaitForExitAsync(TimeSpan.FromSeconds(30));
                    notes.Add($"left with exit code {node.ExitCode}");
                    if (node.ExitCode != 1) Problem($"fault {step.Number}: node{index}, woken from SIGSTOP, exited with {node.ExitCode}, not 1");
                }
                catch (TimeoutException)
                {
                    Problem($"fault {step.Number}: node{index}, frozen {step.Hold.TotalSeconds:0.0} s, was still running 30 s after SIGCONT");
                    node.Kill();
                }
                break;
            }
            case FaultKind.Restart:
            {
                var exit = await cluster.Nodes[index]!.StopGracefullyAsync();
                notes.Add($"stopped with exit code {exit}");
                if (exit != 0) Problem($"fault {step.Number}: node{index} exited with {exit} after SIGTERM, not 0");
                break;
            }
            case FaultKind.DatabaseOutage:
                await database.StopAsync();
                await Task.Delay(step.Hold);
                await database.StartAgainAsync();
                notes.Add("stopped and started again");
                break;
            case FaultKind.Partition when partitioner is null:
                injected = false;
                notes.Add("skipped: the cluster runs without network namespaces");
                break;
            case FaultKind.Partition:
                await partitioner.PartitionAsync(step.Node, step.Other);
                await Task.Delay(step.Hold);
                await partitioner.HealAsync();
                break;
        }
        await RecoverAsync(step, index, notes);
        return new FaultRecord(step, started, DateTimeOffset.UtcNow, target, injected, notes);
    }

    /// <summary>Starts every node that is not running and waits until the cluster settles: every node running, Up
    /// and reachable, and both windows owned. A node that leaves meanwhile is started again: a node downed by the
    /// others exits a moment after the fault ended, even after a partition has healed, when the resolver decided
    /// on the reachability it saw before the heal. A node other than <paramref name="target"/> that had exited is
    /// noted: the fault took more than it aimed at.</summary>
    public async Task RecoverAsync(FaultStep? step, int target, List<string> notes)
    {
        var deadline = DateTime.UtcNow + options.Settle;
        var last = "no view yet";
        for (var round = 1; ; round++)
        {
            foreach (var i in Enumerable.Range(0, cluster.Nodes.Length).Where(i => cluster.Nodes[i] is not { HasExited: false }).ToList())
            {
                if (i != target || round > 1) notes.Add($"node{i} had exited too (code {cluster.Nodes[i]?.ExitCode})");
                await StartAsync(i, notes);
            }
            var (settled, view) = await SettledAsync();
            if (settled) return;
            last = view;
            if (DateTime.UtcNow > deadline)
            {
                Problem($"after fault {step?.Number.ToString() ?? "(final)"}: the cluster did not settle within {options.Settle.TotalSeconds:0} s; last view: {last}");
                await CheckOwnersAsync(step);
                return;
            }
            await Task.Delay(200);
        }
    }

    /// <summary>Whether every node runs, the first running node sees each of them Up and reachable, and both windows
    /// have an owner; else what it saw.</summary>
    private async Task<(bool Settled, string View)> SettledAsync()
    {
        var running = cluster.Running;
        if (running.Count < cluster.Nodes.Length) return (false, $"{running.Count} of {cluster.Nodes.Length} nodes running");
        try
        {
            var view = await cluster.ClusterViewAsync(running[0]);
            var settled = view.Members.Count(m => m is { Status: "Up", Reachable: true }) == running.Count &&
                          ChaosRun.Applications.All(a => view.Windows.SingleOrDefault(w => w.Application == a)?.Owner is not null);
            return (settled, System.Text.Json.JsonSerializer.Serialize(view, AdminJson.Http.ClusterJson));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
        {
            return (false, e.Message);
        }
    }

    /// <summary>A cluster that does not settle may be two: asks every running node who owns each window, and reports
    /// a window that two nodes see owned by different members (two clusters on one database, both serving).</summary>
    private async Task CheckOwnersAsync(FaultStep? step)
    {
        var views = new List<(string Node, ClusterJson View)>();
        foreach (var node in cluster.Running)
        {
            try
            {
                views.Add((node.Name, await cluster.ClusterViewAsync(node)));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not answering: it sees no owner.
            }
        }
        foreach (var application in ChaosRun.Applications)
        {
            var owners = views.Select(v => (v.Node, v.View.Members.Count, Owner: v.View.Windows.SingleOrDefault(w => w.Application == application)?.Owner))
                .Where(v => v.Owner is not null).ToList();
            if (owners.Select(o => o.Owner).Distinct().Count() > 1)
            {
                var evidence = $"after fault {step?.Number.ToString() ?? "(final)"}: {application} has two owners at once: " +
                    string.Join("; ", owners.Select(o => $"{o.Node} (seeing {o.Count} members) says {o.Owner}"));
                _problems.Add(new Violation(Invariants.SingleOwner, evidence));
                options.Log?.Invoke("PROBLEM " + evidence);
            }
        }
    }

    private async Task StartAsync(int index, List<string> notes)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await logs.SaveAsync(index);
                await cluster.StartNodeAsync(index);
                notes.Add($"node{index} started again");
                return;
            }
            catch (Exception e) when (attempt < 3)
            {
                notes.Add($"node{index} failed to start (attempt {attempt}): {e.Message.Split('\n')[0]}");
                options.Log?.Invoke($"node{index} failed to start (attempt {attempt}): {e.Message}");
            }
            catch (Exception e)
            {
                Problem($"node{index} did not start in 3 attempts: {e.Message}");
                return;
            }
        }
    }

    private async Task<int> ResolveAsync(int node)
    {
        if (node != FaultStep.WindowsOwner) return node;
        try
        {
            return await cluster.OwnerIndexAsync("windows", options.Settle);
        }
        catch (TimeoutException e)
        {
            Problem($"no owner of the windows window to hit: {e.Message}");
            return 0;
        }
    }

    private void Problem(string evidence)
    {
        _problems.Add(new Violation(Invariants.FaultRecovery, evidence));
        options.Log?.Invoke("PROBLEM " + evidence);
    }
}
