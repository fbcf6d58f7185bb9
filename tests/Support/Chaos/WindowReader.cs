namespace KmsCluster.Testing.Chaos;

/// <summary>Reads every window through every running node's admin API once the windows stopped changing.</summary>
public static class WindowReader
{
    public static async Task<IReadOnlyList<WindowRead>> ReadSettledAsync(LocalCluster cluster, IReadOnlyList<string> applications,
        TimeSpan timeout)
    {
        // Contacts answered from a full window's grant reach the window a moment after their answers: wait until two
        // reads two seconds apart agree.
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<WindowRead> previous = await ReadAllAsync(cluster, applications, deadline);
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            var reads = await ReadAllAsync(cluster, applications, deadline);
            if (Same(previous, reads)) return reads;
            previous = reads;
        }
        return previous;
    }

    private static bool Same(IReadOnlyList<WindowRead> a, IReadOnlyList<WindowRead> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.Item1.Error is null && p.Item2.Error is null
            && p.Item1.Requests == p.Item2.Requests && p.Item1.Count == p.Item2.Count);

    private static async Task<IReadOnlyList<WindowRead>> ReadAllAsync(LocalCluster cluster, IReadOnlyList<string> applications,
        DateTime deadline)
    {
        var reads = new List<WindowRead>();
        foreach (var node in cluster.Running)
        {
            foreach (var application in applications) reads.Add(await ReadAsync(node, application, deadline));
        }
        return reads;
    }

    private static async Task<WindowRead> ReadAsync(NodeProcess node, string application, DateTime deadline)
    {
        while (true)
        {
            try
            {
                using var admin = new AdminClient(node);
                var window = await admin.WindowAsync(application);
                return new WindowRead(node.Name, application, window.Count, window.Capacity, window.Requests, window.Activated,
                    window.Contacts.Select(c => new ReadContact(c.Cmid, c.LastContact)).ToArray());
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // 503 while the window moves or recovers.
                if (DateTime.UtcNow > deadline) return new WindowRead(node.Name, application, 0, 0, 0, 0, [], e.Message);
                await Task.Delay(500);
            }
        }
    }
}
