namespace KmsCluster.Node.Configuration;

/// <summary>The kms-node flags of the structured request log (read by <see cref="RequestLogSettings"/>); part of
/// <see cref="NodeFlags.All"/>.</summary>
public static class RequestLogFlags
{
    public static readonly NodeFlag Path = new("request-log", "FILE|stdout", "",
        "write one JSON line per activation answer and per refused request (the KMS host's event 12290) to FILE, or to standard output with stdout; off by default");
    public static readonly NodeFlag MaxSize = new("request-log-max-size", "SIZE", "100MB",
        "rotate the request log file before it grows past this: bytes, or 64KB, 100MB, 1GB (1KB to 1TB)");
    public static readonly NodeFlag Files = new("request-log-files", "N", "5",
        "request log files kept, the one being written included: FILE, FILE.1 ... FILE.(N-1), oldest deleted (1 to 1000)");

    public static readonly IReadOnlyList<NodeFlag> All = [Path, MaxSize, Files];
}
