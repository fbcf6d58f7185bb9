using System.Globalization;
using KmsCluster.Domain;
using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Node.Registry;

/// <summary>Reads <c>GET /api/v1/clients</c>'s query string into a <see cref="ClientQuery"/>; a wrong or unknown
/// parameter is refused with a message that starts with its name.</summary>
public static class ClientQueryParser
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    private const int MaxSearchLength = 200;

    /// <summary>The search indexes hold three-character pieces of the text: a shorter one would read every row.</summary>
    private const int MinSearchLength = 3;

    private static readonly string[] Known = ["product", "activated", "expiringWithin", "silentFor", "search", "limit", "after"];

    public static bool TryParse(IQueryCollection parameters, ProductCatalog catalog, DateTimeOffset now, out ClientQuery query,
        out string error)
    {
        query = new ClientQuery(null, null, null, null, null, DefaultLimit, null, now);
        error = "";
        foreach (var (name, values) in parameters)
        {
            if (!Known.Contains(name, StringComparer.Ordinal))
            {
                error = $"{name}: unknown parameter; known: {string.Join(", ", Known)}";
                return false;
            }
            if (values.Count != 1)
            {
                error = $"{name}: given {values.Count} times; give it once";
                return false;
            }
            var text = values[0] ?? "";
            switch (name)
            {
                case "product":
                    if (catalog.FindProduct(text) is not { } product)
                    {
                        error = $"product: \"{text}\" is not in this host's catalogue (see kms products)";
                        return false;
                    }
                    query = query with { ProductId = product.Id };
                    break;
                case "activated":
                    if (text is not ("true" or "false"))
                    {
                        error = $"activated: \"{text}\" is not true or false";
                        return false;
                    }
                    query = query with { Activated = text == "true" };
                    break;
                case "expiringWithin":
                    if (!TryDuration(name, text, out var expiring, out error)) return false;
                    query = query with { ExpiringWithin = expiring };
                    break;
                case "silentFor":
                    if (!TryDuration(name, text, out var silent, out error)) return false;
                    query = query with { SilentFor = silent };
                    break;
                case "search":
                    if (text.Trim().Length < MinSearchLength || text.Length > MaxSearchLength)
                    {
                        error = $"search: give {MinSearchLength} to {MaxSearchLength} characters of a CMID or workstation name";
                        return false;
                    }
                    query = query with { Search = text.Trim() };
                    break;
                case "limit":
                    if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit is < 1 or > MaxLimit)
                    {
                        error = $"limit: \"{text}\" is not a whole number from 1 to {MaxLimit}";
                        return false;
                    }
                    query = query with { Limit = limit };
                    break;
                case "after":
                    if (!ClientCursor.TryDecode(text, out var cursor))
                    {
                        error = "after: not a cursor this API gave (use the next field of the previous page)";
                        return false;
                    }
                    query = query with { After = cursor };
                    break;
            }
        }
        return true;
    }

    private static bool TryDuration(string name, string text, out TimeSpan duration, out string error)
    {
        if (!Durations.TryParse(text, "d", out duration, out var reason))
        {
            error = $"{name}: {reason}";
            return false;
        }
        if (duration <= TimeSpan.Zero || duration > TimeSpan.FromDays(3653))
        {
            error = $"{name}: \"{text}\" must be more than 0 and at most 10 years";
            return false;
        }
        error = "";
        return true;
    }
}
