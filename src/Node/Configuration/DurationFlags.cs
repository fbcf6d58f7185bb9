using KmsCluster.Domain;

namespace KmsCluster.Node.Configuration;

/// <summary>Duration flags: <see cref="Durations"/> with the flag's name on a wrong value.</summary>
public static class DurationFlags
{
    public static TimeSpan Parse(string text, string flag, string defaultUnit) =>
        Durations.TryParse(text, defaultUnit, out var duration, out var error) ? duration : throw new NodeOptionsException($"{flag}: {error}");

    /// <summary>An activation or renewal interval: whole minutes between 15 minutes and 30 days.</summary>
    public static uint ParseIntervalMinutes(string text, string flag)
    {
        var duration = Parse(text, flag, defaultUnit: "m");
        var minutes = duration.TotalMinutes;
        if (minutes != Math.Floor(minutes))
        {
            throw new NodeOptionsException($"{flag}: \"{text}\" is not a whole number of minutes");
        }
        if (minutes > uint.MaxValue || !ActivationPolicy.IsValidInterval((uint)minutes))
        {
            throw new NodeOptionsException(
                $"{flag}: {minutes} minutes is outside {KmsModel.MinIntervalMinutes} minutes to 30 days ({KmsModel.MaxIntervalMinutes} minutes)");
        }
        return (uint)minutes;
    }
}
