using KmsCluster.Domain;
using static KmsCluster.Domain.Tests.TestContacts;

namespace KmsCluster.Domain.Tests;

public sealed class ActivationPolicyTests
{
    private static readonly TimeSpan FourHours = TimeSpan.FromHours(4);
    private static readonly TimeSpan OneTick = TimeSpan.FromTicks(1);

    [Fact]
    public void A_client_clock_exactly_four_hours_off_either_way_is_accepted()
    {
        Assert.Null(ActivationPolicy.ClockSkew(Start + FourHours, Start));
        Assert.Null(ActivationPolicy.ClockSkew(Start - FourHours, Start));
        Assert.Null(ActivationPolicy.ClockSkew(Start, Start));
    }

    [Fact]
    public void A_client_clock_more_than_four_hours_off_either_way_is_refused_with_the_signed_skew()
    {
        Assert.Equal(FourHours + OneTick, ActivationPolicy.ClockSkew(Start + FourHours + OneTick, Start));
        Assert.Equal(-(FourHours + OneTick), ActivationPolicy.ClockSkew(Start - FourHours - OneTick, Start));
        Assert.Equal(TimeSpan.FromDays(-3), ActivationPolicy.ClockSkew(Start - TimeSpan.FromDays(3), Start));
    }

    [Fact]
    public void The_skew_compares_instants_not_local_clock_readings()
    {
        // The same instant written in another time zone is no skew at all.
        var clientTime = Start.ToOffset(TimeSpan.FromHours(9));

        Assert.Null(ActivationPolicy.ClockSkew(clientTime, Start));
    }

    [Theory]
    [InlineData(25, 25, true)]
    [InlineData(24, 25, false)]
    [InlineData(50, 25, true)]
    [InlineData(5, 5, true)]
    [InlineData(4, 5, false)]
    [InlineData(0, 5, false)]
    public void A_client_is_activated_once_the_count_reaches_its_threshold(int count, int threshold, bool activated)
    {
        var decision = ActivationPolicy.Decide(count, threshold, Start);

        Assert.Equal(activated, decision.Activated);
        Assert.Equal(activated ? Start + TimeSpan.FromDays(180) : null, decision.ValidUntil);
    }

    [Theory]
    [InlineData(0u, false)]
    [InlineData(14u, false)]
    [InlineData(15u, true)]
    [InlineData(120u, true)]
    [InlineData(10080u, true)]
    [InlineData(43200u, true)]
    [InlineData(43201u, false)]
    [InlineData(uint.MaxValue, false)]
    public void Intervals_from_fifteen_minutes_to_thirty_days_inclusive_are_valid(uint minutes, bool valid)
    {
        Assert.Equal(valid, ActivationPolicy.IsValidInterval(minutes));
    }

    [Fact]
    public void The_default_intervals_are_two_hours_and_seven_days()
    {
        Assert.Equal(120u, ActivationPolicy.Default.ActivationIntervalMinutes);
        Assert.Equal(10080u, ActivationPolicy.Default.RenewalIntervalMinutes);
        Assert.True(ActivationPolicy.IsValidInterval(ActivationPolicy.Default.ActivationIntervalMinutes));
        Assert.True(ActivationPolicy.IsValidInterval(ActivationPolicy.Default.RenewalIntervalMinutes));
    }
}
