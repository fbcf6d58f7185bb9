using System.CommandLine;
using KmsCluster.Protocol.Admin;
using Spectre.Console;
using static KmsCluster.Cli.AdminApi;

namespace KmsCluster.Cli;

/// <summary><c>kms window --admin HOST:PORT [--application NAME] [--json]</c>: a node's contact windows; exit 5 when some
/// window could not be reached (its owner down), the others shown.</summary>
internal static class WindowCommand
{
    public static Command Create(CliOutput output)
    {
        var admin = new AdminOptions();
        var application = new Option<string?>("--application") { Description = "one application (windows, office); default all" };
        var json = new Option<bool>("--json") { Description = "print the admin API's JSON" };
        var command = new Command("window", "show the contact window(s): count, thresholds, stored contacts") { application, json };
        foreach (var option in admin.All) command.Options.Add(option);
        command.SetAction((result, cancellationToken) => result.GetValue(application) is { } app
            // An application the node does not know is a usage error (404), as an unknown product is for kms activate.
            ? ShowAsync(output, admin, result, "/api/v1/windows/" + Uri.EscapeDataString(app), result.GetValue(json),
                AdminJson.Http.WindowJson, window => Print(output, window), cancellationToken, notFoundIsUsage: true)
            : ShowAsync(output, admin, result, "/api/v1/windows", result.GetValue(json),
                AdminJson.Http.WindowsJson, all =>
                {
                    foreach (var window in all.Windows) Print(output, window);
                    foreach (var missing in all.Unreachable)
                    {
                        output.Ansi.MarkupLine($"[bold]{Markup.Escape(missing.Application)}[/]: NOT FETCHED: {Markup.Escape(missing.Error)}");
                    }
                }, cancellationToken, notFoundIsUsage: true,
                // As kms status: a window whose owner is down is a partial answer, not a failure of the command.
                exitCode: all => all.Unreachable.Count > 0 ? ExitCodes.Partial : ExitCodes.Activated));
        return command;
    }

    private static void Print(CliOutput output, WindowJson window)
    {
        var thresholds = string.Join(", ", (window.Thresholds ?? []).Select(t =>
            $"{t.Kind} {t.Threshold} ({(t.Reached ? "reached" : "not reached")})"));
        output.Ansi.MarkupLine($"[bold]{Markup.Escape(Shown(window.Name, ""))}[/]: count {window.Count} " +
                               $"(keeps {window.Capacity}), thresholds {Markup.Escape(thresholds)}");
        output.Ansi.MarkupLine($"  requests {window.Requests}, activated {window.Activated}, " +
                               $"not activated {window.NotActivated}; owner {Markup.Escape(Shown(window.Owner, ""))}");
        if (window.Grant is { } grant)
        {
            output.Out.WriteLine($"  full: this node answers editions up to threshold {grant.HighestThreshold} with count " +
                                 $"{grant.Capacity} from its grant (epoch {grant.Epoch}, full until " +
                                 $"{grant.FullUntil.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC)");
        }
        if (window.Contacts is not { Count: > 0 } contacts)
        {
            output.Out.WriteLine("  no contacts in the last 30 days");
            return;
        }
        var table = new Table().Border(TableBorder.Simple).AddColumns("CMID", "Product", "Workstation", "VM", "Last contact (UTC)");
        foreach (var c in contacts)
        {
            var workstation = Shown(c.Workstation, "");
            if (c.OtherWorkstation is { } other)
            {
                workstation += $" (also seen as {other}: cloned CMID?)";
            }
            table.AddRow(c.Cmid.ToString(), Markup.Escape(Shown(c.Product, "")), Markup.Escape(workstation),
                c.VirtualMachine ? "yes" : "no", c.LastContact.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"));
        }
        output.Ansi.Write(table);
    }
}
