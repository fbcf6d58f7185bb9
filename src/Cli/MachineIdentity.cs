namespace KmsCluster.Cli;

/// <summary>The client machine id (CMID) `kms activate` uses when none is given: created once per user and
/// kept, so repeated runs on one machine count once, as a real KMS client does.</summary>
public static class MachineIdentity
{
    public static Guid LocalMachineId()
    {
        var directory = Path.Combine(
            Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.Create),
            "kmscluster");
        var path = Path.Combine(directory, "cmid");
        if (File.Exists(path) && Guid.TryParse(File.ReadAllText(path).Trim(), out var existing))
        {
            return existing;
        }
        var cmid = Guid.NewGuid();
        Directory.CreateDirectory(directory);
        File.WriteAllText(path, cmid + Environment.NewLine);
        return cmid;
    }
}
