using KmsCluster.Client.Connection;

namespace KmsCluster.Testing.Chaos;

/// <summary>What a chaos run does: its seed, how long faults are injected, the load, and where its files go.</summary>
public sealed record ChaosOptions
{
    public int Seed { get; init; } = 1;

    /// <summary>How long faults are injected under load (the fault in progress at the end still finishes).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Simulated clients sending at once.</summary>
    public int Workers { get; init; } = 6;

    /// <summary>Each client's pause between two requests: keeps the history a size a checker reads in seconds.</summary>
    public TimeSpan PauseBetweenRequests { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Run every node in a network namespace of its own and inject partitions (needs root: ip, iptables).</summary>
    public bool Partitions { get; init; } = true;

    /// <summary>Every node a seed, instead of the first two only (see <see cref="ChaosCluster.StartAsync"/>).</summary>
    public bool EveryNodeASeed { get; init; }

    /// <summary>Directory for requests.jsonl, schedule.json, report.json (created).</summary>
    public required string Directory { get; init; }

    /// <summary>The clients' limits: short enough that an outage reaches them as failed requests to record.</summary>
    public KmsClientOptions Client { get; init; } = new()
    {
        Deadline = TimeSpan.FromSeconds(10), RequestTimeout = TimeSpan.FromSeconds(3), ConnectTimeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>How long the cluster may take to settle (every node Up, every window owned) after a fault.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Writes progress lines (faults as they happen); null for none.</summary>
    public Action<string>? Log { get; init; }
}
