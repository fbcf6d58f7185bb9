using KmsCluster.Node.Registry;

namespace KmsCluster.Node.Tests;

/// <summary>The feed between the answer path and the registry writer: bounded, dropping (and counting) beyond its
/// capacity, and coalescing repeats of a machine into one row.</summary>
public sealed class RegistryFeedTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.Parse("2026-11-30T12:00:00Z");
    private static readonly Guid Windows = Guid.NewGuid();

    private static RegistryContact Contact(Guid cmid, string workstation, int count, DateTimeOffset at) =>
        new(Windows, cmid, workstation, Guid.NewGuid(), false, count, count >= 25, count >= 25 ? at.AddDays(180) : null, at);

    [Fact]
    public void A_full_feed_drops_and_counts_instead_of_waiting()
    {
        var feed = new RegistryFeed(enabled: true, capacity: 3);
        for (var i = 0; i < 5; i++) feed.Record(Contact(Guid.NewGuid(), "WS", i, At));
        Assert.Equal((3L, 2L), (feed.Pending, feed.Stats().Dropped));

        Assert.Equal(3, feed.Drain(10, out var taken).Count);
        Assert.Equal(3, taken);
        Assert.Equal(0, feed.Pending);
        feed.Record(Contact(Guid.NewGuid(), "WS", 1, At));
        Assert.Equal((1L, 2L), (feed.Pending, feed.Stats().Dropped));
    }

    [Fact]
    public void Repeats_of_a_machine_become_one_row_with_the_latest_answer_and_the_earliest_contact()
    {
        var feed = new RegistryFeed(enabled: true);
        var cmid = Guid.NewGuid();
        feed.Record(Contact(cmid, "PC-1", 24, At.AddSeconds(1)));
        feed.Record(Contact(cmid, "PC-1", 26, At.AddSeconds(2)));
        feed.Record(Contact(cmid, "PC-1", 23, At)); // arrived late from another thread
        feed.Record(Contact(cmid, "PC-2", 27, At.AddSeconds(3))); // a clone: a row of its own

        var rows = feed.Drain(100, out var taken);
        Assert.Equal(4, taken);
        Assert.Equal(2, rows.Count);
        var row = rows[new RegistryKey(Windows, cmid, "PC-1")];
        Assert.Equal((26, true, At.AddSeconds(2), At), (row.Latest.Count, row.Latest.Activated, row.Latest.At, row.FirstContact));
        Assert.Equal(27, rows[new RegistryKey(Windows, cmid, "PC-2")].Latest.Count);
    }

    [Fact]
    public void A_feed_that_is_off_takes_nothing()
    {
        var feed = new RegistryFeed(enabled: false);
        feed.Record(Contact(Guid.NewGuid(), "WS", 1, At));
        Assert.Equal(0, feed.Pending);
        Assert.Equal((false, 0L, 0L), (feed.Stats().Enabled, feed.Stats().Dropped, feed.Stats().Written));
    }
}
