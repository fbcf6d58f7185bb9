namespace KmsCluster.Testing.Chaos;

public enum FaultKind
{
    /// <summary>kill -9 of a node, started again after <see cref="FaultStep.Hold"/>.</summary>
    Kill,

    /// <summary>SIGSTOP for <see cref="FaultStep.Hold"/>, longer than failure detection and downing, then SIGCONT: the
    /// node must find itself removed and exit; it is started again.</summary>
    Freeze,

    /// <summary>SIGTERM (a graceful stop) and a start.</summary>
    Restart,

    /// <summary>PostgreSQL stops for <see cref="FaultStep.Hold"/> and starts again.</summary>
    DatabaseOutage,

    /// <summary>All traffic between two nodes cut both ways for <see cref="FaultStep.Hold"/>, then healed.</summary>
    Partition,
}

/// <summary>One fault of the schedule.</summary>
/// <param name="Node">The node it hits: an index, or <see cref="WindowsOwner"/> for the node owning the Windows
/// window when the fault starts; unused for a database outage.</param>
/// <param name="Other">A partition's other side.</param>
/// <param name="Hold">How long the fault lasts (a killed node stays down, a frozen one stopped, the database away).</param>
/// <param name="Pause">The quiet time after the cluster settled, before the next fault.</param>
public sealed record FaultStep(int Number, FaultKind Kind, int Node, int Other, TimeSpan Hold, TimeSpan Pause)
{
    public const int WindowsOwner = -1;

    public string Target => Kind switch
    {
        FaultKind.DatabaseOutage => "postgresql",
        FaultKind.Partition => $"node{Node} | node{Other}",
        _ => Node == WindowsOwner ? "windows owner" : $"node{Node}",
    };
}

/// <summary>
/// The faults of a run, one at a time (so at most one node is ever out and a majority stays), from a seeded
/// <see cref="Random"/>: the same seed gives the same schedule. Kinds are dealt from a shuffled deck, every kind once
/// per round, so even a short run meets each of them.
/// </summary>
public static class FaultSchedule
{
    public static IEnumerable<FaultStep> Create(int seed, int nodes)
    {
        var random = new Random(seed);
        var number = 0;
        while (true)
        {
            var deck = Enum.GetValues<FaultKind>();
            random.Shuffle(deck);
            foreach (var kind in deck)
            {
                // Half the node faults hit the Windows window's owner: the node whose loss moves the busiest window.
                var node = random.NextDouble() < 0.5 ? FaultStep.WindowsOwner : random.Next(nodes);
                var other = random.Next(nodes - 1);
                var hold = kind switch
                {
                    FaultKind.Kill => Seconds(random, 1, 6),
                    // Downing takes 3.5 s of silence at the soonest; the freeze watchdog stops a node frozen 2.5 s.
                    FaultKind.Freeze => Seconds(random, 5, 10),
                    FaultKind.Restart => TimeSpan.Zero,
                    FaultKind.DatabaseOutage => Seconds(random, 2, 8),
                    _ => Seconds(random, 5, 12),
                };
                if (kind == FaultKind.Partition)
                {
                    node = random.Next(nodes);
                    other = (node + 1 + other) % nodes;
                }
                yield return new FaultStep(++number, kind, node, other, hold, Seconds(random, 2, 5));
            }
        }
    }

    private static TimeSpan Seconds(Random random, double min, double max) =>
        TimeSpan.FromMilliseconds(Math.Round((min + random.NextDouble() * (max - min)) * 1000));
}
