using System.Buffers.Binary;
using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Cli.Load;

/// <summary>One edition of the simulated fleet and its share of the machines.</summary>
public sealed record FleetShare(Product Product, int Weight);

/// <summary>
/// The simulated machines of a load run: machine <c>i</c> has a stable CMID derived from <c>(seed, i)</c>, an
/// edition drawn from the mix by the same hash, a workstation name and a virtual-machine flag. Reruns with the
/// same seed hit the same machines with the same editions.
/// </summary>
public sealed class Fleet
{
    /// <summary>The default mix of editions, in percent: mostly Windows client editions, some Windows Server, some
    /// Office (one edition per simulated machine). README.md lists the same table.</summary>
    public static readonly IReadOnlyList<(string Slug, int Percent)> DefaultMix =
    [
        ("windows-11-enterprise", 30),
        ("windows-11-pro", 20),
        ("windows-10-enterprise", 15),
        ("windows-10-pro", 10),
        ("windows-11-education", 5),
        ("windows-server-2025-standard", 3),
        ("windows-server-2022-standard", 3),
        ("windows-server-2022-datacenter", 2),
        ("windows-server-2019-standard", 2),
        ("office-ltsc-2024-professional-plus", 6),
        ("office-ltsc-2021-professional-plus", 4),
    ];

    /// <summary>Share of simulated machines that say they are virtual machines.</summary>
    public const int VirtualMachinePercent = 30;

    private readonly Guid[] _cmids;
    private readonly byte[] _productIndex;

    public Fleet(int machines, long seed, IReadOnlyList<FleetShare> mix)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(machines, 1);
        if (mix.Count is 0 or > 255 || mix.Any(s => s.Weight <= 0))
        {
            throw new ArgumentException("the mix needs 1 to 255 editions with positive weights", nameof(mix));
        }
        Seed = seed;
        Products = mix.Select(s => s.Product).ToArray();
        var cumulative = new int[mix.Count];
        var total = 0;
        for (var p = 0; p < mix.Count; p++)
        {
            total += mix[p].Weight;
            cumulative[p] = total;
        }
        _cmids = new Guid[machines];
        _productIndex = new byte[machines];
        for (var i = 0; i < machines; i++)
        {
            _cmids[i] = MachineId(seed, i);
            var draw = (int)(Hash(seed, i, 1) % (ulong)total);
            var product = 0;
            while (draw >= cumulative[product])
            {
                product++;
            }
            _productIndex[i] = (byte)product;
        }
    }

    /// <summary>The default mix, or the given editions in equal shares.</summary>
    public static IReadOnlyList<FleetShare> Mix(ProductCatalog catalog, IReadOnlyList<Product>? only)
    {
        if (only is { Count: > 0 })
        {
            return only.Distinct().Select(p => new FleetShare(p, 1)).ToArray();
        }
        return DefaultMix.Select(m => new FleetShare(
            catalog.FindProduct(m.Slug) ?? throw new InvalidOperationException($"the default mix names {m.Slug}, which the catalogue lacks"),
            m.Percent)).ToArray();
    }

    public long Seed { get; }

    public int Count => _cmids.Length;

    /// <summary>The editions of the mix; <see cref="ProductOf"/> indexes them.</summary>
    public IReadOnlyList<Product> Products { get; }

    public Guid CmidOf(int machine) => _cmids[machine];

    public int ProductOf(int machine) => _productIndex[machine];

    /// <summary>The workstation name of machine <paramref name="machine"/>: <c>load-000042</c>. Made on each call (one
    /// short-lived string per request) rather than kept: a million long-lived strings would make the first garbage
    /// collections of a run copy them into the old generation, a pause of a few hundred milliseconds that an open
    /// loop would measure as latency.</summary>
    public string NameOf(int machine) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"load-{machine:d6}");

    public bool IsVirtualMachine(int machine) => Hash(Seed, machine, 2) % 100 < VirtualMachinePercent;

    /// <summary>A number in [0, 1) fixed for the machine; spreads fleet start times.</summary>
    public double Phase(int machine) => (Hash(Seed, machine, 3) >> 11) * (1.0 / (1UL << 53));

    /// <summary>The CMID of machine <paramref name="index"/> under <paramref name="seed"/>: an RFC 9562 version 8
    /// (custom) UUID from a 128-bit hash, stable across runs and machines.</summary>
    public static Guid MachineId(long seed, int index)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, Hash(seed, index, 0));
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Hash(seed, index, 4));
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80); // version 8
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC variant
        return new Guid(bytes, bigEndian: true);
    }

    /// <summary>SplitMix64 finaliser over (seed, index, stream): cheap, well mixed, deterministic.</summary>
    private static ulong Hash(long seed, int index, int stream)
    {
        var x = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)index * 0xD1B54A32D192ED03UL + (ulong)stream * 0x8CB92BA72F3D8DD7UL);
        x ^= x >> 30;
        x *= 0xBF58476D1CE4E5B9UL;
        x ^= x >> 27;
        x *= 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return x;
    }
}
