using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>A window as a node's admin API shows it.</summary>
public sealed record StoredWindow(int Count, int Capacity, long Requests, long Activated, string? Owner,
    IReadOnlyList<StoredContact> Contacts)
{
    public IReadOnlySet<Guid> Machines => Contacts.Select(c => c.Cmid).ToHashSet();

    public static async Task<StoredWindow> ReadAsync(NodeProcess node, string application)
    {
        using var admin = new AdminClient(node);
        var window = await admin.WindowAsync(application);
        return new StoredWindow(window.Count, window.Capacity, window.Requests, window.Activated, window.Owner,
            window.Contacts.Select(c => new StoredContact(c.Cmid, c.Product, c.Workstation, c.OtherWorkstation, c.LastContact)).ToArray());
    }

    /// <summary>Reads the window until <paramref name="done"/> holds, for contacts answered before they were durable
    /// (from a full window's grant), which reach the window a moment after their answers; returns the last read
    /// when <paramref name="timeout"/> has passed, for the caller's assertions to explain.</summary>
    public static async Task<StoredWindow> ReadWhenAsync(NodeProcess node, string application, Func<StoredWindow, bool> done,
        TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var window = await ReadAsync(node, application);
                if (done(window) || DateTime.UtcNow > deadline) return window;
            }
            catch (Exception e) when ((e is HttpRequestException or TaskCanceledException) && DateTime.UtcNow <= deadline)
            {
                // 503 while the window moves or recovers.
            }
            await Task.Delay(200);
        }
    }
}

public sealed record StoredContact(Guid Cmid, string Product, string Workstation, string? OtherWorkstation,
    DateTimeOffset LastContact)
{
    /// <summary>The contact time as a client saw it (the wire carries milliseconds).</summary>
    public DateTimeOffset LastContactMilliseconds => DateTimeOffset.FromUnixTimeMilliseconds(LastContact.ToUnixTimeMilliseconds());
}
