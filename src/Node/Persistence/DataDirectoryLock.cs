namespace KmsCluster.Node.Persistence;

/// <summary>One kms-node per data directory: the directory holds the node's identity (and, without --db,
/// its SQLite journal, which must never have two writers).</summary>
public static class DataDirectoryLock
{
    /// <exception cref="Configuration.NodeOptionsException">the directory is taken or not writable.</exception>
    public static FileStream Acquire(string dataDirectory)
    {
        try
        {
            Directory.CreateDirectory(dataDirectory);
            return new FileStream(Path.Combine(dataDirectory, "kms.lock"), FileMode.OpenOrCreate,
                FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new Configuration.NodeOptionsException(
                $"--data: {dataDirectory} is in use by another kms-node or not writable ({e.Message.TrimEnd('.')}); one data directory serves one node");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new Configuration.NodeOptionsException($"--data: {dataDirectory} is not writable ({e.Message.TrimEnd('.')})");
        }
    }
}
