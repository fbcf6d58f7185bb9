using CsCheck;
using KmsCluster.Domain;
using KmsCluster.Protocol.Wire;
using static KmsCluster.Domain.Tests.TestContacts;

namespace KmsCluster.Domain.Tests;

/// <summary>Random histories of a window, for the property tests here and the serializer's round trips.</summary>
internal static class WindowGenerators
{
    /// <summary>A batch arriving some time after the previous one (occasionally before it: a clock step back).</summary>
    internal sealed record Step(TimeSpan Advance, ContactRequest[] Batch)
    {
        public override string ToString() =>
            $"+{Advance}: [{string.Join(", ", Batch.Select(c => $"{c.ClientMachineId.ToString()[..8]}/{c.Threshold}/{c.Workstation}"))}]";
    }

    // A small machine pool so that duplicates, re-contacts and evictions are frequent; mostly thresholds of 5
    // so that the cap of 10 and its rise to 50 both happen; a second name now and then (cloned images).
    internal static readonly Gen<ContactRequest> GenContact =
        from machine in Gen.Int[0, 59]
        from threshold in Gen.Frequency((6, ServerThreshold), (1, ClientThreshold))
        from name in Gen.Frequency((5, 0), (1, 1), (1, 2))
        from virtualMachine in Gen.Bool
        select new ContactRequest(Machine(machine), threshold == ClientThreshold ? WindowsClientProduct : WindowsServerProduct,
            threshold, $"WS-{machine}-{name}", virtualMachine, LicenseState.Unlicensed);

    internal static readonly Gen<TimeSpan> GenAdvance = Gen.Frequency(
        (12, Gen.Int[0, 600].Select(minutes => TimeSpan.FromMinutes(minutes))),
        (3, Gen.Int[1, 40].Select(days => TimeSpan.FromDays(days))),
        (1, Gen.Int[0, 25].Select(days => TimeSpan.FromDays(30) + TimeSpan.FromMilliseconds(days - 12))),
        (1, Gen.Int[1, 300].Select(minutes => TimeSpan.FromMinutes(-minutes))));

    internal static readonly Gen<Step> GenStep =
        from advance in GenAdvance
        from batch in GenContact.Array[0, 30]
        select new Step(advance, batch);
}
