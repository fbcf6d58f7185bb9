namespace KmsCluster.Domain;

/// <summary>The host's answer rules around the count: the clock check before a contact is counted, and
/// what a count means for a client once its contact is recorded.</summary>
public sealed record ActivationPolicy(uint ActivationIntervalMinutes, uint RenewalIntervalMinutes)
{
    public static readonly ActivationPolicy Default =
        new(KmsModel.DefaultActivationIntervalMinutes, KmsModel.DefaultRenewalIntervalMinutes);

    /// <summary>Null when the client's clock is within 4 hours of the host's; else how far off it is
    /// (positive: the client is ahead).</summary>
    public static TimeSpan? ClockSkew(DateTimeOffset clientTime, DateTimeOffset hostTime)
    {
        var skew = clientTime - hostTime;
        return skew.Duration() > KmsModel.MaxClockSkew ? skew : null;
    }

    /// <summary>A client is activated once the count reaches its edition's threshold; the activation is
    /// valid for 180 days from the contact that granted it.</summary>
    public static ActivationDecision Decide(int count, int threshold, DateTimeOffset recordedAt) =>
        count >= threshold
            ? new ActivationDecision(true, recordedAt + KmsModel.ActivationValidity)
            : new ActivationDecision(false, null);

    /// <summary>An interval is valid from 15 minutes to 30 days.</summary>
    public static bool IsValidInterval(uint minutes) =>
        minutes is >= KmsModel.MinIntervalMinutes and <= KmsModel.MaxIntervalMinutes;
}

public readonly record struct ActivationDecision(bool Activated, DateTimeOffset? ValidUntil);
