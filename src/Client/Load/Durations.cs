using System.Globalization;

namespace KmsCluster.Client.Load;

/// <summary>Durations on the <c>kms load</c> command line: <c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>, or a plain
/// number of seconds (<c>30</c>, <c>1.5</c>).</summary>
public static class Durations
{
    public static bool TryParse(string? text, out TimeSpan duration, out string error)
    {
        duration = default;
        var trimmed = text?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            error = "empty duration; write e.g. 30s, 2m, 500ms or a number of seconds";
            return false;
        }
        var (number, unitSeconds) = trimmed switch
        {
            _ when trimmed.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (trimmed[..^2], 0.001),
            _ when trimmed.EndsWith('s') || trimmed.EndsWith('S') => (trimmed[..^1], 1.0),
            _ when trimmed.EndsWith('m') || trimmed.EndsWith('M') => (trimmed[..^1], 60.0),
            _ when trimmed.EndsWith('h') || trimmed.EndsWith('H') => (trimmed[..^1], 3600.0),
            _ => (trimmed, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ||
            !double.IsFinite(value))
        {
            error = $"\"{text}\" is not a duration; write e.g. 30s, 2m, 500ms or a number of seconds";
            return false;
        }
        var seconds = value * unitSeconds;
        if (seconds <= 0)
        {
            error = $"\"{text}\" must be more than zero";
            return false;
        }
        if (seconds > TimeSpan.FromDays(30).TotalSeconds)
        {
            error = $"\"{text}\" is longer than 30 days";
            return false;
        }
        // At least one tick; a microsecond-short duration still means "stop at once".
        duration = TimeSpan.FromTicks(Math.Max(1, (long)Math.Round(seconds * TimeSpan.TicksPerSecond)));
        error = "";
        return true;
    }
}
