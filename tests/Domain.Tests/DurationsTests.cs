using KmsCluster.Domain;

namespace KmsCluster.Domain.Tests;

/// <summary>The one duration parser of the node's flags and the <c>kms</c> command line: units, the default unit of
/// a bare number, the 10-year ceiling, and an error that quotes what was typed.</summary>
public sealed class DurationsTests
{
    [Theory]
    [InlineData("500ms", "s", 500)]
    [InlineData("30s", "m", 30_000)]
    [InlineData("90m", "s", 5_400_000)]
    [InlineData("90min", "s", 5_400_000)]
    [InlineData("1.5h", "s", 5_400_000)]
    [InlineData("7d", "s", 604_800_000)]
    [InlineData("0.5ms", "s", 0.5)]
    [InlineData(" 2H ", "s", 7_200_000)]
    [InlineData("90", "m", 5_400_000)]
    [InlineData("30", "s", 30_000)]
    [InlineData("2", "d", 172_800_000)]
    [InlineData("250", "ms", 250)]
    [InlineData("1.5", "h", 5_400_000)]
    [InlineData("0", "s", 0)]
    public void A_number_and_a_unit_or_a_bare_number_in_the_default_unit_is_a_duration(string text, string defaultUnit,
        double milliseconds)
    {
        Assert.True(Durations.TryParse(text, defaultUnit, out var duration, out var error));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
        Assert.Equal("", error);
    }

    [Fact]
    public void Ten_years_is_the_longest_in_every_unit_and_a_tick_more_is_refused()
    {
        Assert.True(Durations.TryParse("3650d", "s", out var days, out _));
        Assert.Equal(Durations.Longest, days);
        Assert.True(Durations.TryParse("87600h", "s", out var hours, out _));
        Assert.Equal(Durations.Longest, hours);
        Assert.True(Durations.TryParse("315360000", "s", out var seconds, out _));
        Assert.Equal(Durations.Longest, seconds);

        Assert.False(Durations.TryParse("3650.001d", "s", out var refused, out var error));
        Assert.Equal("\"3650.001d\" is longer than 3650 days", error);
        Assert.Equal(TimeSpan.Zero, refused);
        Assert.False(Durations.TryParse("315360001", "s", out _, out error));
        Assert.Equal("\"315360001\" is longer than 3650 days", error);
    }

    [Theory]
    [InlineData("", "\"\" is not a duration (examples: 90, 90m, 2h, 7d, 30s, 500ms)")]
    [InlineData("   ", "\"   \" is not a duration (examples: 90, 90m, 2h, 7d, 30s, 500ms)")]
    [InlineData("s", "\"s\" is not a duration (examples: 90, 90m, 2h, 7d, 30s, 500ms)")]
    [InlineData("-5s", "\"-5s\" is not a duration (examples: 90, 90m, 2h, 7d, 30s, 500ms)")]
    [InlineData("1.2.3s", "\"1.2.3s\" is not a duration (examples: 90, 90m, 2h, 7d, 30s, 500ms)")]
    [InlineData(".", "\".\" is not a duration (examples: 90, 90m, 2h, 7d, 30s, 500ms)")]
    [InlineData("5x", "unknown unit \"x\" in \"5x\" (use ms, s, m, h or d)")]
    [InlineData("5 s", "unknown unit \" s\" in \"5 s\" (use ms, s, m, h or d)")]
    [InlineData("1e3", "unknown unit \"e3\" in \"1e3\" (use ms, s, m, h or d)")]
    [InlineData("10 seconds", "unknown unit \" seconds\" in \"10 seconds\" (use ms, s, m, h or d)")]
    public void Anything_else_is_refused_with_an_error_that_quotes_it(string text, string expected)
    {
        Assert.False(Durations.TryParse(text, "s", out var duration, out var error));
        Assert.Equal(expected, error);
        Assert.Equal(TimeSpan.Zero, duration);
    }

    [Fact]
    public void Nothing_at_all_is_refused_as_empty()
    {
        Assert.False(Durations.TryParse(null, "s", out _, out var error));
        Assert.Equal("\"\" is not a duration (examples: 90, 90m, 2h, 7d, 30s, 500ms)", error);
    }

    [Fact]
    public void A_default_unit_that_is_no_unit_refuses_a_bare_number()
    {
        Assert.False(Durations.TryParse("30", "weeks", out _, out var error));
        Assert.Equal("unknown unit \"weeks\" in \"30\" (use ms, s, m, h or d)", error);
    }
}
