using System.CommandLine;
using System.Net;
using System.Text.Json;
using Spectre.Console;

namespace KmsCluster.Cli;

/// <summary><c>kms window --admin HOST:PORT [--application NAME] [--json]</c>: a node's contact windows.</summary>
internal static class WindowCommand
{
    public static Command Create(CliOutput output)
    {
        var admin = new Option<string>("--admin") { Description = "the node's admin endpoint HOST:PORT", DefaultValueFactory = _ => AdminApi.DefaultEndpoint };
        var application = new Option<string?>("--application") { Description = "one application (windows, office); default all" };
        var json = new Option<bool>("--json") { Description = "print the admin API's JSON" };
        var command = new Command("window", "show the contact window(s): count, thresholds, stored contacts") { admin, application, json };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var address = ServerAddresses.ParseOrThrow(result.GetValue(admin)!, AdminApi.DefaultPort);
                var path = result.GetValue(application) is { } app
                    ? "/api/v1/windows/" + Uri.EscapeDataString(app)
                    : "/api/v1/windows";
                var (status, body) = await AdminApi.GetAsync(address, path, cancellationToken);
                if ((int)status is < 200 or > 299)
                {
                    return output.Fail(status == HttpStatusCode.NotFound ? ExitCodes.Usage : ExitCodes.Refused,
                        $"{address}: {(int)status} {AdminApi.ErrorText(body)}");
                }
                if (result.GetValue(json))
                {
                    output.Out.WriteLine(body);
                    return ExitCodes.Activated;
                }
                using var document = JsonDocument.Parse(body);
                var windows = document.RootElement.ValueKind == JsonValueKind.Array
                    ? document.RootElement.EnumerateArray().ToArray()
                    : [document.RootElement];
                foreach (var window in windows)
                {
                    Print(output, window);
                }
                return ExitCodes.Activated;
            }
            catch (UsageException e)
            {
                return output.Fail(ExitCodes.Usage, e.Message);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                return output.Fail(ExitCodes.Unreachable, $"admin API unreachable: {e.Message}");
            }
        });
        return command;
    }

    private static void Print(CliOutput output, JsonElement window)
    {
        var thresholds = string.Join(", ", window.GetProperty("thresholds").EnumerateArray().Select(t =>
            $"{t.GetProperty("kind").GetString()} {t.GetProperty("threshold").GetInt32()} ({(t.GetProperty("reached").GetBoolean() ? "reached" : "not reached")})"));
        output.Ansi.MarkupLine($"[bold]{Markup.Escape(window.GetProperty("name").GetString() ?? "")}[/]: count {window.GetProperty("count").GetInt32()} " +
                               $"(keeps {window.GetProperty("capacity").GetInt32()}), thresholds {Markup.Escape(thresholds)}");
        output.Ansi.MarkupLine($"  requests {window.GetProperty("requests").GetInt64()}, activated {window.GetProperty("activated").GetInt64()}, " +
                               $"not activated {window.GetProperty("notActivated").GetInt64()}; owner {Markup.Escape(window.GetProperty("owner").GetString() ?? "")}");
        var contacts = window.GetProperty("contacts");
        if (contacts.GetArrayLength() == 0)
        {
            output.Out.WriteLine("  no contacts in the last 30 days");
            return;
        }
        var table = new Table().Border(TableBorder.Simple).AddColumns("CMID", "Product", "Workstation", "VM", "Last contact (UTC)");
        foreach (var c in contacts.EnumerateArray())
        {
            var workstation = c.GetProperty("workstation").GetString() ?? "";
            if (c.GetProperty("otherWorkstation").GetString() is { } other)
            {
                workstation += $" (also seen as {other}: cloned CMID?)";
            }
            table.AddRow(c.GetProperty("cmid").GetString() ?? "", Markup.Escape(c.GetProperty("product").GetString() ?? ""),
                Markup.Escape(workstation), c.GetProperty("virtualMachine").GetBoolean() ? "yes" : "no",
                c.GetProperty("lastContact").GetDateTimeOffset().UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"));
        }
        output.Ansi.Write(table);
    }
}
