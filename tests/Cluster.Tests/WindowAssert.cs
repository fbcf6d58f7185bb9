using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>The guarantees of the cluster, checked on what clients were told and what the window holds.</summary>
public static class WindowAssert
{
    /// <summary>Fewer machines than the window keeps: every acknowledged machine is stored, no later than
    /// its acknowledgement says, and counted once.</summary>
    public static void HoldsEveryAcknowledgedContact(ContactLoad load, StoredWindow window)
    {
        Assert.Empty(load.Violations);
        Assert.NotEmpty(load.AcknowledgedContacts);
        Assert.Equal(window.Contacts.Count, window.Machines.Count);
        Assert.Equal(window.Contacts.Count, window.Count);
        var stored = window.Contacts.ToDictionary(c => c.Cmid);
        foreach (var acknowledged in load.AcknowledgedContacts.Values)
        {
            Assert.True(stored.TryGetValue(acknowledged.Cmid, out var contact),
                $"{acknowledged.Cmid} was acknowledged by {acknowledged.Host} at {acknowledged.RecordedAt:O} but is not in the window");
            Assert.True(contact.LastContactMilliseconds >= acknowledged.RecordedAt,
                $"{acknowledged.Cmid}: stored {contact.LastContact:O}, acknowledged {acknowledged.RecordedAt:O}");
        }
        // Nothing appears that no client sent.
        Assert.Subset(load.Sent.ToHashSet(), window.Machines.ToHashSet());
    }

    /// <summary>Contacts answered from a full window's grant follow their answers to the window: reads the window
    /// through <paramref name="node"/> until it counts at least <paramref name="requests"/> requests and holds every
    /// acknowledged contact, then checks it as <see cref="HoldsEveryAcknowledgedContact"/> does.</summary>
    public static async Task<StoredWindow> EventuallyHoldsEveryAcknowledgedContactAsync(ContactLoad load, NodeProcess node,
        string application, long requests, TimeSpan timeout)
    {
        var window = await StoredWindow.ReadWhenAsync(node, application, w => w.Requests >= requests
            && load.AcknowledgedContacts.Values.All(a => w.Contacts.Any(c => c.Cmid == a.Cmid && c.LastContactMilliseconds >= a.RecordedAt)),
            timeout);
        HoldsEveryAcknowledgedContact(load, window);
        Assert.True(window.Requests >= requests, $"the window counts {window.Requests} requests; at least {requests} were answered");
        return window;
    }

    /// <summary>Requests for a full window of <paramref name="capacity"/>: each was answered on the host it reached,
    /// with neither an error nor a retry on another host, activated with the capacity as its count.</summary>
    public static void AnsweredEveryRequestFull(ContactLoad load, int capacity)
    {
        Assert.Empty(load.Violations);
        Assert.Empty(load.Errors);
        Assert.Equal(0, load.Failovers);
        Assert.NotEmpty(load.Answers);
        Assert.All(load.Answers.Keys, answer => Assert.Equal((capacity, true), (answer.Count, answer.Activated)));
    }

    /// <summary>Many more machines than the window keeps: the window holds the latest ones. Every contact
    /// acknowledged later than the oldest stored one must be stored; every stored one was sent.</summary>
    public static void KeepsTheLatestContacts(ContactLoad load, StoredWindow window)
    {
        Assert.Empty(load.Violations);
        Assert.Equal(window.Capacity, window.Contacts.Count);
        Assert.Equal(window.Contacts.Count, window.Machines.Count);
        Assert.Subset(load.Sent.ToHashSet(), window.Machines.ToHashSet());
        var oldest = window.Contacts.Min(c => c.LastContactMilliseconds);
        var newer = load.AcknowledgedContacts.Values.Where(a => a.RecordedAt > oldest).ToList();
        var missing = newer.Where(a => !window.Machines.Contains(a.Cmid)).ToList();
        Assert.True(missing.Count == 0,
            $"{missing.Count} of {newer.Count} contacts acknowledged after the oldest stored one ({oldest:O}) are missing, e.g. {missing.FirstOrDefault()}");
        // The contacts are listed newest first.
        Assert.Equal(window.Contacts.OrderByDescending(c => c.LastContact).Select(c => c.LastContact), window.Contacts.Select(c => c.LastContact));
    }
}
