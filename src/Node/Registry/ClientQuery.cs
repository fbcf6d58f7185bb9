using System.Text;

namespace KmsCluster.Node.Registry;

/// <summary>A page of the client registry: filters (null: any), the page size and where the page starts.</summary>
public sealed record ClientQuery(
    Guid? ProductId,
    bool? Activated,
    TimeSpan? ExpiringWithin,
    TimeSpan? SilentFor,
    string? Search,
    int Limit,
    ClientCursor? After,
    DateTimeOffset Now);

/// <summary>
/// Where a page ends, as the registry orders its rows (last contact, CMID, workstation, application; all
/// descending): the next page starts strictly after it. Opaque to clients (base64url); stable under writes, so
/// paging covers every row exactly once unless the row itself moves (a new contact puts a machine on top).
/// </summary>
public readonly record struct ClientCursor(long LastContactMs, Guid Cmid, string Workstation, Guid ApplicationId)
{
    public string Encode() => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{LastContactMs}|{Cmid:N}|{ApplicationId:N}|{Workstation}"))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string text, out ClientCursor cursor)
    {
        cursor = default;
        try
        {
            var base64 = text.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(base64)).Split('|', 4);
            if (parts.Length == 4 && long.TryParse(parts[0], System.Globalization.NumberStyles.AllowLeadingSign,
                    System.Globalization.CultureInfo.InvariantCulture, out var last) &&
                Guid.TryParseExact(parts[1], "N", out var cmid) && Guid.TryParseExact(parts[2], "N", out var application))
            {
                cursor = new ClientCursor(last, cmid, parts[3], application);
                return true;
            }
        }
        catch (FormatException)
        {
        }
        return false;
    }
}

/// <summary>A registry row as stored.</summary>
public sealed record StoredClient(
    Guid ApplicationId,
    Guid Cmid,
    string Workstation,
    Guid ProductId,
    bool VirtualMachine,
    DateTimeOffset FirstContact,
    DateTimeOffset LastContact,
    int LastCount,
    bool Activated,
    DateTimeOffset? ValidUntil,
    string Node,
    bool Cloned)
{
    public ClientCursor Cursor => new(LastContact.ToUnixTimeMilliseconds(), Cmid, Workstation, ApplicationId);
}
