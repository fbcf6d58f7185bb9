namespace KmsCluster.Node.Backup;

/// <summary>A backup or restore that stopped, with the one line to print and the exit code to end with
/// (<see cref="BackupExitCodes"/>).</summary>
internal sealed class BackupException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>Bad input found before anything was written: a missing data directory, a target that is not empty.</summary>
    public static BackupException Refused(string message) => new(BackupExitCodes.Refused, message);

    /// <summary>The file given to restore is not a whole kms-node backup.</summary>
    public static BackupException NotABackup(string reason) => new(BackupExitCodes.NotABackup, reason);

    /// <summary>Reading or writing failed on the way (a full disk, a database that would not copy).</summary>
    public static BackupException Failed(string message) => new(BackupExitCodes.Failed, message);
}

/// <summary>Exit codes of <c>kms-node backup</c> and <c>kms-node restore</c>.</summary>
internal static class BackupExitCodes
{
    public const int Done = 0;
    public const int Failed = 1;
    public const int Refused = 2;
    public const int NotABackup = 3;
}
