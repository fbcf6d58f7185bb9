using KmsCluster.Testing.Chaos;

namespace KmsCluster.Chaos.Tests;

public sealed class FaultScheduleTests
{
    [Fact]
    public void The_same_seed_gives_the_same_schedule_and_another_seed_another()
    {
        Assert.Equal(FaultSchedule.Create(42, 3).Take(40), FaultSchedule.Create(42, 3).Take(40));
        Assert.NotEqual(FaultSchedule.Create(42, 3).Take(40), FaultSchedule.Create(43, 3).Take(40));
    }

    [Fact]
    public void Every_round_deals_every_fault_once_within_its_bounds()
    {
        var steps = FaultSchedule.Create(7, 3).Take(5 * Enum.GetValues<FaultKind>().Length).ToList();
        foreach (var round in steps.Chunk(Enum.GetValues<FaultKind>().Length))
        {
            Assert.Equal(Enum.GetValues<FaultKind>().Order(), round.Select(s => s.Kind).Order());
        }
        Assert.All(steps.Where(s => s.Kind == FaultKind.Freeze), s => Assert.InRange(s.Hold.TotalSeconds, 5, 10));
        Assert.All(steps.Where(s => s.Kind == FaultKind.Partition), s =>
        {
            Assert.NotEqual(s.Node, s.Other);
            Assert.InRange(s.Other, 0, 2);
        });
        Assert.All(steps, s => Assert.InRange(s.Node, FaultStep.WindowsOwner, 2));
    }
}
