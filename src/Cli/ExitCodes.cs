namespace KmsCluster.Cli;

/// <summary>Exit codes of the kms command (README.md lists them).</summary>
public static class ExitCodes
{
    public const int Activated = 0;
    public const int NotActivated = 1;
    public const int Refused = 2;
    public const int Unreachable = 3;
    public const int Usage = 4;

    /// <summary><c>kms status</c>: the node answered, but some parts could not be fetched (a window whose owner is down).</summary>
    public const int Partial = 5;
}
