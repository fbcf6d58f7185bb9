using System.CommandLine;
using System.Globalization;
using KmsCluster.Protocol.Admin;
using Spectre.Console;
using static KmsCluster.Cli.AdminApi;

namespace KmsCluster.Cli;

/// <summary>
/// <c>kms status --admin HOST:PORT [--json] [--timeout SECONDS]</c>: one screen about a node, as <c>slmgr /dlv</c>
/// shows a KMS host (<see cref="StatusReport"/> gathers it). A section that could not be fetched says so and the
/// rest is shown. Exit codes: 0 everything fetched, 5 some parts could not be, 3 the admin API unreachable,
/// 2 the token refused, 4 usage.
/// </summary>
internal static class StatusCommand
{
    private const int Label = 22;

    public static Command Create(CliOutput output)
    {
        var admin = new AdminOptions();
        var json = new Option<bool>("--json") { Description = "print the whole status as one JSON document" };
        var timeout = new Option<double>("--timeout")
        {
            Description = "seconds each admin API request may take (a window whose owner is down answers after the node's --window-timeout)",
            DefaultValueFactory = _ => 10,
        };
        var command = new Command("status",
            "one screen about a node: name, endpoints, intervals, windows and thresholds, requests, host keys, DNS, members; " +
            $"exit code {ExitCodes.Partial} when some parts could not be fetched") { json, timeout };
        foreach (var option in admin.All) command.Options.Add(option);
        command.SetAction(async (result, cancellationToken) =>
        {
            var seconds = result.GetValue(timeout);
            if (!(seconds > 0 && seconds <= 600))
            {
                return output.Fail(ExitCodes.Usage, $"--timeout: must be more than 0 and at most 600 seconds, got {seconds}");
            }
            StatusReport report;
            try
            {
                report = await StatusReport.GatherAsync(admin.Resolve(result), TimeSpan.FromSeconds(seconds), cancellationToken);
            }
            catch (UsageException e)
            {
                return output.Fail(ExitCodes.Usage, e.Message);
            }
            catch (AdminUnreachableException e)
            {
                return output.Fail(ExitCodes.Unreachable, $"admin API unreachable: {e.Message}");
            }
            catch (AdminTokenRefusedException e)
            {
                return output.Fail(ExitCodes.Refused, e.Message);
            }
            if (result.GetValue(json))
            {
                output.WriteJson(report);
            }
            else
            {
                Print(output, report);
            }
            return report.Complete ? ExitCodes.Activated : ExitCodes.Partial;
        });
        return command;
    }

    private static void Print(CliOutput output, StatusReport report)
    {
        var o = output.Out;
        void Line(string label, string value) => o.WriteLine($"{label + ":",-Label}{value}");
        void Unavailable(string part) =>
            o.WriteLine($"  NOT FETCHED: {report.Unavailable.FirstOrDefault(p => p.Part == part)?.Error ?? "no answer"}");

        output.Ansi.MarkupLine("[bold]Node[/]");
        if (report.Node is { } node)
        {
            Line("Name", $"{Shown(node.Node)} ({node.HostId})");
            Line("Version", Shown(node.Version));
            Line("Activation endpoints", string.Join(", ", node.ActivationEndpoints ?? []));
            Line("Admin endpoint", Shown(node.AdminEndpoint));
            Line("Cluster address", Shown(node.ClusterAddress));
            Line("Journal", Shown(node.Journal));
            Line("Activation interval", $"{node.ActivationIntervalMinutes} minutes");
            Line("Renewal interval", $"{node.RenewalIntervalMinutes} minutes");
            Line("Uptime", $"{Uptime(TimeSpan.FromSeconds(node.UptimeSeconds))} (since {node.StartedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC)");
            Line("Request log", node.RequestLog ?? "off");
        }
        else
        {
            Line("Admin endpoint", report.Admin);
            Unavailable("node");
        }

        output.Ansi.MarkupLine("[bold]Requests[/]");
        if (report.Stats is { } stats)
        {
            Line("Total", stats.Total.ToString(CultureInfo.InvariantCulture));
            Line("Failed", stats.Failed.ToString(CultureInfo.InvariantCulture));
            Line("Activated", stats.Activated.ToString(CultureInfo.InvariantCulture));
            Line("Not activated", stats.NotActivated.ToString(CultureInfo.InvariantCulture));
            if (stats.RequestLog is { } log)
            {
                Line("Request log lines", $"{log.Written} written, {log.Dropped} dropped, {log.WriteErrors} lost to write errors, {log.Rotations} rotations");
            }
        }
        else
        {
            Unavailable("stats");
        }

        output.Ansi.MarkupLine("[bold]Windows[/]");
        if (report.Windows.Count == 0)
        {
            Unavailable(report.Cluster is null ? "windows" : "cluster");
        }
        foreach (var entry in report.Windows)
        {
            if (entry.Window is not { } window)
            {
                o.WriteLine($"  {entry.Application}: NOT FETCHED: {entry.Error}");
                continue;
            }
            var thresholds = string.Join(", ", (window.Thresholds ?? []).Select(t =>
                $"{t.Kind} {window.Count}/{t.Threshold} {(t.Reached ? "activating" : "below threshold")}"));
            o.WriteLine($"  {Shown(window.Application)}: count {window.Count} (keeps {window.Capacity}); {thresholds}");
            o.WriteLine($"    requests {window.Requests}, activated {window.Activated}, not activated {window.NotActivated}; owner {Shown(window.Owner, "none")}");
        }

        output.Ansi.MarkupLine("[bold]Host keys[/]");
        if (report.Host is { } host)
        {
            Line("Licence", Shown(host.Licence));
            var keys = new Table().Border(TableBorder.Simple).AddColumns("Key", "Group", "Status", "Expires (UTC)", "Reason");
            foreach (var key in host.Keys ?? [])
            {
                keys.AddRow(Markup.Escape(Shown(key.KeyId)), Markup.Escape(Shown(key.Group)), Markup.Escape(Shown(key.Status)),
                    key.ExpiresAt is { } expires ? expires.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "never",
                    Markup.Escape(Shown(key.Reason, "")));
            }
            if (host.Keys is { Count: > 0 }) output.Ansi.Write(keys);
            else o.WriteLine("  no host keys: every activation is refused with no-host-key");

            output.Ansi.MarkupLine("[bold]DNS[/]");
            if (host.Dns is not { Enabled: true } dns)
            {
                Line("Publishing", "off");
            }
            else
            {
                Line("Publishing", Shown(dns.State));
                Line("Record", Shown(dns.Record, "(not yet: the port is not known)"));
                if (dns.LastError is { } error) Line("Last error", error);
            }
        }
        else
        {
            Unavailable("host");
        }

        output.Ansi.MarkupLine("[bold]Cluster[/]");
        if (report.Cluster is { } cluster)
        {
            Line("Leader", Shown(cluster.Leader, "none"));
            var members = new Table().Border(TableBorder.Simple).AddColumns("Member", "Status", "Reachable", "");
            foreach (var member in cluster.Members ?? [])
            {
                members.AddRow(Markup.Escape(Shown(member.Address)), Markup.Escape(Shown(member.Status)), member.Reachable ? "yes" : "NO",
                    member.Self ? "self" : "");
            }
            output.Ansi.Write(members);
        }
        else
        {
            Unavailable("cluster");
        }

        if (!report.Complete)
        {
            o.WriteLine($"{report.Unavailable.Count} part(s) could not be fetched (exit code {ExitCodes.Partial}).");
        }
    }

    private static string Uptime(TimeSpan span) => span.TotalDays >= 1
        ? $"{(int)span.TotalDays}d {span.Hours}h {span.Minutes}m"
        : span.TotalHours >= 1 ? $"{(int)span.TotalHours}h {span.Minutes}m" : $"{span.Minutes}m {span.Seconds}s";
}
