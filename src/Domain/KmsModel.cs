namespace KmsCluster.Domain;

/// <summary>The numbers of the KMS activation model (../shared/reference/kms-model.md).</summary>
public static class KmsModel
{
    /// <summary>A contact counts while it is younger than this.</summary>
    public static readonly TimeSpan ContactLifetime = TimeSpan.FromDays(30);

    /// <summary>An activation is valid this long after the contact that granted it.</summary>
    public static readonly TimeSpan ActivationValidity = TimeSpan.FromDays(180);

    /// <summary>A request whose client clock is further than this from the host clock is refused.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromHours(4);

    /// <summary>A window keeps this many times the highest threshold asked for (50 for 25, 10 for 5).</summary>
    public const int StoredContactsPerThreshold = 2;

    /// <summary>Not yet activated clients retry after this many minutes (2 hours).</summary>
    public const uint DefaultActivationIntervalMinutes = 120;

    /// <summary>Activated clients renew after this many minutes (7 days).</summary>
    public const uint DefaultRenewalIntervalMinutes = 10080;

    /// <summary>Both intervals are configurable between 15 minutes and 30 days.</summary>
    public const uint MinIntervalMinutes = 15;

    public const uint MaxIntervalMinutes = 30 * 24 * 60;
}
