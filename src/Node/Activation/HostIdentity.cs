namespace KmsCluster.Node.Activation;

/// <summary>Who this node is on the wire: a stable id kept in the data directory and a display name.</summary>
public sealed record HostIdentity(Guid Id, string Name)
{
    public static HostIdentity LoadOrCreate(string dataDirectory, string name)
    {
        var path = Path.Combine(dataDirectory, "node-id");
        if (File.Exists(path) && Guid.TryParse(File.ReadAllText(path).Trim(), out var existing))
        {
            return new HostIdentity(existing, name);
        }
        var id = Guid.NewGuid();
        File.WriteAllText(path, id.ToString() + Environment.NewLine);
        return new HostIdentity(id, name);
    }
}
