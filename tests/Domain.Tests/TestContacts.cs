using KmsCluster.Domain;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Domain.Tests;

/// <summary>Contacts as the host's catalogue would hand them to a window: thresholds 25 (Windows client),
/// 5 (Windows Server), 5 (Office). Machine numbers map to fixed CMIDs so tests can name machines.</summary>
internal static class TestContacts
{
    public const int ClientThreshold = 25;
    public const int ServerThreshold = 5;
    public const int OfficeThreshold = 5;

    public static readonly Guid WindowsClientProduct = Guid.Parse("00000000-0000-0000-0000-00000000c11e");
    public static readonly Guid WindowsServerProduct = Guid.Parse("00000000-0000-0000-0000-000000005e4e");
    public static readonly Guid OfficeProduct = Guid.Parse("00000000-0000-0000-0000-0000000000ff");

    /// <summary>A fixed start so failures reproduce; FakeTimeProvider walks from here.</summary>
    public static readonly DateTimeOffset Start = new(2025, 3, 1, 8, 0, 0, TimeSpan.Zero);

    public static Guid Machine(int number) => new(number, 0x4b4d, 0x5300, [1, 2, 3, 4, 5, 6, 7, 8]);

    public static ContactRequest Client(int machine, string? workstation = null) =>
        new(Machine(machine), WindowsClientProduct, ClientThreshold, workstation ?? $"PC-{machine}", false,
            LicenseState.Unlicensed);

    public static ContactRequest Server(int machine, string? workstation = null) =>
        new(Machine(machine), WindowsServerProduct, ServerThreshold, workstation ?? $"SRV-{machine}", true,
            LicenseState.InitialGrace);

    public static ContactRequest Office(int machine, string? workstation = null) =>
        new(Machine(machine), OfficeProduct, OfficeThreshold, workstation ?? $"PC-{machine}", false,
            LicenseState.Unlicensed);

    /// <summary>Decides a batch and applies its event, as the actor does once the event is durable.</summary>
    public static BatchDecision Record(this ContactWindow window, DateTimeOffset now, params ContactRequest[] batch)
    {
        var decision = window.Decide(batch, now);
        window.Apply(decision.Event);
        return decision;
    }

    public static Guid[] StoredMachines(this ContactWindow window) =>
        window.StoredContacts.Select(c => c.ClientMachineId).ToArray();
}
