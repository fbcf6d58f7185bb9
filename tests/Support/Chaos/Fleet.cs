using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Testing.Chaos;

/// <summary>A simulated machine of the fleet: its edition, and when in the run it first asks.</summary>
public sealed record FleetMachine(Guid Cmid, Product Product, TimeSpan FirstAsks);

/// <summary>
/// The machines of a chaos run: new machines arrive evenly over the whole run, so count-changing contacts (a
/// machine new to its window) keep happening from start to end, and the known ones renew in between. The Windows
/// window (client editions, threshold 25, and server editions, threshold 5) receives 72 machines: it passes its
/// cap of 50 about two thirds into the run and keeps taking new machines, evicting the oldest. The Office window
/// (threshold 5, cap 10) receives 9 and never fills. Seeded: the same seed, the same fleet.
/// </summary>
public sealed class Fleet
{
    public const int WindowsMachines = 72;
    public const int OfficeMachines = 9;

    private static readonly string[] ClientEditions = ["windows-11-pro", "windows-11-enterprise", "windows-10-education"];
    private static readonly string[] ServerEditions = ["windows-server-2022-standard", "windows-server-2025-datacenter"];
    private static readonly string[] OfficeEditions = ["office-ltsc-2021-standard", "office-ltsc-2024-professional-plus"];

    private readonly object _gate = new();
    private readonly FleetMachine[] _arrivals;
    private readonly Dictionary<string, List<FleetMachine>> _known = new() { ["windows"] = [], ["office"] = [] };
    private int _next;

    private Fleet(FleetMachine[] arrivals) => _arrivals = arrivals;

    public IReadOnlyList<FleetMachine> Machines => _arrivals;

    public static Fleet Plan(int seed, TimeSpan duration)
    {
        var random = new Random(seed);
        var machines = new List<FleetMachine>();
        // The last machine arrives at 95 % of the run, so the final checks see it settled.
        var span = duration * 0.95;
        for (var i = 0; i < WindowsMachines; i++)
        {
            // The first is a client edition: the window's cap is 50 from the start, as at a site with desktops.
            var editions = i == 0 || random.NextDouble() < 0.7 ? ClientEditions : ServerEditions;
            machines.Add(new FleetMachine(NewGuid(random), Requests.Product(editions[random.Next(editions.Length)]), span * i / WindowsMachines));
        }
        for (var i = 0; i < OfficeMachines; i++)
        {
            machines.Add(new FleetMachine(NewGuid(random), Requests.Product(OfficeEditions[random.Next(OfficeEditions.Length)]), span * i / OfficeMachines));
        }
        return new Fleet([.. machines.OrderBy(m => m.FirstAsks)]);
    }

    /// <summary>The next contact at <paramref name="elapsed"/> into the run: a machine due to ask for the first time,
    /// else a renewal of a known one (seven in ten of Windows).</summary>
    public (FleetMachine Machine, bool FirstSend) Next(TimeSpan elapsed, Random random)
    {
        lock (_gate)
        {
            if (_next < _arrivals.Length && _arrivals[_next].FirstAsks <= elapsed)
            {
                var machine = _arrivals[_next++];
                _known[machine.Product.Application.Slug].Add(machine);
                return (machine, true);
            }
            var known = _known["office"].Count == 0 || random.NextDouble() < 0.7 ? _known["windows"] : _known["office"];
            return (known[random.Next(known.Count)], false);
        }
    }

    private static Guid NewGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }
}
