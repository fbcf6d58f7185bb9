using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace KmsCluster.Client.Cli;

/// <summary><c>kms window --admin HOST:PORT [--application NAME] [--json]</c>: a node's contact windows.</summary>
internal static class WindowCommand
{
    public static Command Create()
    {
        var admin = new Option<string>("--admin") { Description = "the node's admin endpoint HOST:PORT", DefaultValueFactory = _ => "127.0.0.1:8688" };
        var application = new Option<string?>("--application") { Description = "one application (windows, office); default all" };
        var json = new Option<bool>("--json") { Description = "print the admin API's JSON" };
        var command = new Command("window", "show the contact window(s): count, thresholds, stored contacts") { admin, application, json };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var address = ServerAddress.ParseOrThrow(result.GetValue(admin)!, defaultPort: 8688);
                var path = result.GetValue(application) is { } app
                    ? "/api/v1/windows/" + Uri.EscapeDataString(app)
                    : "/api/v1/windows";
                using var http = new HttpClient { BaseAddress = new Uri($"http://{address}"), Timeout = TimeSpan.FromSeconds(15) };
                using var response = await http.GetAsync(path, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    var reason = TryReadError(body) ?? body;
                    return CliOutput.Fail((int)response.StatusCode == 404 ? ExitCodes.Usage : ExitCodes.Refused,
                        $"{address}: {(int)response.StatusCode} {reason}");
                }
                if (result.GetValue(json))
                {
                    Console.Out.WriteLine(body);
                    return ExitCodes.Activated;
                }
                using var document = JsonDocument.Parse(body);
                var windows = document.RootElement.ValueKind == JsonValueKind.Array
                    ? document.RootElement.EnumerateArray().ToArray()
                    : [document.RootElement];
                foreach (var window in windows)
                {
                    Print(window);
                }
                return ExitCodes.Activated;
            }
            catch (UsageException e)
            {
                return CliOutput.Fail(ExitCodes.Usage, e.Message);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                return CliOutput.Fail(ExitCodes.Unreachable, $"admin API unreachable: {e.Message}");
            }
        });
        return command;
    }

    private static string? TryReadError(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("error", out var error) ? error.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void Print(JsonElement window)
    {
        var thresholds = string.Join(", ", window.GetProperty("thresholds").EnumerateArray().Select(t =>
            $"{t.GetProperty("kind").GetString()} {t.GetProperty("threshold").GetInt32()} ({(t.GetProperty("reached").GetBoolean() ? "reached" : "not reached")})"));
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(window.GetProperty("name").GetString() ?? "")}[/]: count {window.GetProperty("count").GetInt32()} " +
                               $"(keeps {window.GetProperty("capacity").GetInt32()}), thresholds {Markup.Escape(thresholds)}");
        AnsiConsole.MarkupLine($"  requests {window.GetProperty("requests").GetInt64()}, activated {window.GetProperty("activated").GetInt64()}, " +
                               $"not activated {window.GetProperty("notActivated").GetInt64()}; owner {Markup.Escape(window.GetProperty("owner").GetString() ?? "")}");
        var contacts = window.GetProperty("contacts");
        if (contacts.GetArrayLength() == 0)
        {
            Console.Out.WriteLine("  no contacts in the last 30 days");
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
        AnsiConsole.Write(table);
    }
}
