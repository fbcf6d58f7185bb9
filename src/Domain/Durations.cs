using System.Globalization;

namespace KmsCluster.Domain;

/// <summary>
/// Durations as operators type them, the one parser of the node's flags and the <c>kms</c> command line:
/// a number (whole or with a decimal point) and a unit, <c>ms</c>, <c>s</c>, <c>m</c> (or <c>min</c>), <c>h</c> or
/// <c>d</c>: <c>500ms</c>, <c>30s</c>, <c>90m</c>, <c>1.5h</c>, <c>7d</c>. A bare number is in the caller's default
/// unit (minutes for intervals, seconds for timeouts). No signs, no exponents; the range is the caller's to check.
/// </summary>
public static class Durations
{
    /// <summary>Longer than any setting means; keeps the arithmetic far from <see cref="TimeSpan.MaxValue"/>.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(3650);

    public const string Examples = "examples: 90, 90m, 2h, 7d, 30s, 500ms";

    /// <param name="defaultUnit">The unit of a bare number: "ms", "s", "m", "h" or "d".</param>
    /// <param name="error">Why <paramref name="text"/> is not a duration, quoting it; empty on success.</param>
    public static bool TryParse(string? text, string defaultUnit, out TimeSpan duration, out string error)
    {
        duration = default;
        // Stryker disable once String : for a null text, any stand-in without a leading digit is refused alike, and the message quotes text itself
        var trimmed = (text ?? "").Trim().ToLowerInvariant();
        var end = 0;
        while (end < trimmed.Length && (char.IsAsciiDigit(trimmed[end]) || trimmed[end] == '.')) end++;
        var unit = end < trimmed.Length ? trimmed[end..] : defaultUnit;
        if (end == 0 || !decimal.TryParse(trimmed.AsSpan(0, end), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            error = $"\"{text}\" is not a duration ({Examples})";
            return false;
        }
        decimal? unitMilliseconds = unit switch
        {
            "ms" => 1m,
            "s" => 1_000m,
            "m" or "min" => 60_000m,
            "h" => 3_600_000m,
            "d" => 86_400_000m,
            _ => null,
        };
        if (unitMilliseconds is not { } scale)
        {
            error = $"unknown unit \"{unit}\" in \"{text}\" (use ms, s, m, h or d)";
            return false;
        }
        if (number > (decimal)Longest.TotalMilliseconds / scale)
        {
            error = $"\"{text}\" is longer than {Longest.TotalDays:0} days";
            return false;
        }
        duration = TimeSpan.FromTicks((long)Math.Round(number * scale * TimeSpan.TicksPerMillisecond));
        error = "";
        return true;
    }
}
