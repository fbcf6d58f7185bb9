using System.Globalization;
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
/// Where a page ends, as the registry orders its rows (last contact, then the row's key in the store; both
/// descending): the next page starts strictly after it. Opaque to clients (base64url); stable under writes, so
/// paging covers every row exactly once unless the row itself moves (a new contact puts a machine on top). The
/// tie-break is the store's integer row key, not the CMID and workstation: a page sorts integers, which is what
/// keeps a filter that matches tens of thousands of rows (a 30-day expiry window) within a page's time.
/// </summary>
public readonly record struct ClientCursor(long LastContactMs, long RowId)
{
    public string Encode() => Convert.ToBase64String(Encoding.UTF8.GetBytes(
            string.Create(CultureInfo.InvariantCulture, $"{LastContactMs}|{RowId}")))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryDecode(string text, out ClientCursor cursor)
    {
        cursor = default;
        try
        {
            var base64 = text.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(base64)).Split('|');
            if (parts.Length == 2 &&
                long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var last) &&
                long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var row))
            {
                cursor = new ClientCursor(last, row);
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
    long RowId,
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
    public ClientCursor Cursor => new(LastContact.ToUnixTimeMilliseconds(), RowId);
}
