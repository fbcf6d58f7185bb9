namespace KmsCluster.Protocol.Wire;

/// <summary>The licence state a client reports, as in the KMS host's request log.</summary>
public enum LicenseState : byte
{
    Unlicensed = 0,
    Licensed = 1,
    InitialGrace = 2,
    ExpiredGrace = 3,
    NonGenuineGrace = 4,
    Notification = 5,
    ExtendedGrace = 6,
}

public static class LicenseStates
{
    public const int Count = 7;

    public static bool IsDefined(byte value) => value < Count;

    /// <summary>Stable lower-case name used in logs, JSON and the CLI.</summary>
    public static string Name(this LicenseState state) => state switch
    {
        LicenseState.Unlicensed => "unlicensed",
        LicenseState.Licensed => "licensed",
        LicenseState.InitialGrace => "initial-grace",
        LicenseState.ExpiredGrace => "expired-grace",
        LicenseState.NonGenuineGrace => "non-genuine-grace",
        LicenseState.Notification => "notification",
        LicenseState.ExtendedGrace => "extended-grace",
        _ => "unknown",
    };

    public static bool TryParse(string text, out LicenseState state)
    {
        foreach (var candidate in Enum.GetValues<LicenseState>())
        {
            if (string.Equals(candidate.Name(), text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                state = candidate;
                return true;
            }
        }
        state = default;
        return false;
    }
}
