using System.Text.Json;
using KmsCluster.Testing;

namespace KmsCluster.Cluster.Tests;

/// <summary>A window as a node's admin API shows it.</summary>
public sealed record StoredWindow(int Count, int Capacity, long Requests, long Activated, string? Owner,
    IReadOnlyList<StoredContact> Contacts)
{
    public IReadOnlySet<Guid> Machines => Contacts.Select(c => c.Cmid).ToHashSet();

    public static async Task<StoredWindow> ReadAsync(NodeProcess node, string application)
    {
        using var admin = new AdminClient(node.AdminUri);
        var json = await admin.WindowAsync(application);
        return new StoredWindow(
            json.GetProperty("count").GetInt32(),
            json.GetProperty("capacity").GetInt32(),
            json.GetProperty("requests").GetInt64(),
            json.GetProperty("activated").GetInt64(),
            json.GetProperty("owner").GetString(),
            json.GetProperty("contacts").EnumerateArray().Select(StoredContact.From).ToArray());
    }
}

public sealed record StoredContact(Guid Cmid, string Product, string Workstation, string? OtherWorkstation,
    DateTimeOffset LastContact)
{
    public static StoredContact From(JsonElement c) => new(
        c.GetProperty("cmid").GetGuid(),
        c.GetProperty("product").GetString()!,
        c.GetProperty("workstation").GetString()!,
        c.GetProperty("otherWorkstation").GetString(),
        c.GetProperty("lastContact").GetDateTimeOffset());

    /// <summary>The contact time as a client saw it (the wire carries milliseconds).</summary>
    public DateTimeOffset LastContactMilliseconds => DateTimeOffset.FromUnixTimeMilliseconds(LastContact.ToUnixTimeMilliseconds());
}
