using System.Globalization;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Cli;

/// <summary><c>kms clients --csv</c>: RFC 4180 (a field with a comma, quote or line break is quoted), ISO 8601 UTC times.</summary>
internal static class ClientsCsv
{
    public const string Header =
        "cmid,workstation,application,product,virtualMachine,firstContact,lastContact,lastCount,activated,validUntil,node,cloned";

    public static void Write(TextWriter output, IEnumerable<ClientJson> rows)
    {
        output.WriteLine(Header);
        foreach (var c in rows)
        {
            output.WriteLine(string.Join(",",
                c.Cmid.ToString(), Field(c.Workstation), Field(c.Application), Field(c.Product), Bool(c.VirtualMachine),
                Time(c.FirstContact), Time(c.LastContact), c.LastCount.ToString(CultureInfo.InvariantCulture), Bool(c.Activated),
                c.ValidUntil is { } until ? Time(until) : "", Field(c.Node), Bool(c.Cloned)));
        }
    }

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static string Field(string? text)
    {
        text ??= "";
        return text.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;
    }
}
