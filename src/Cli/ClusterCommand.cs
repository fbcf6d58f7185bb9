using System.CommandLine;
using KmsCluster.Protocol.Admin;
using Spectre.Console;
using static KmsCluster.Cli.AdminApi;

namespace KmsCluster.Cli;

/// <summary><c>kms cluster --admin HOST:PORT [--json]</c>: the cluster as one node sees it.</summary>
internal static class ClusterCommand
{
    public static Command Create(CliOutput output)
    {
        var admin = new AdminOptions();
        var json = new Option<bool>("--json") { Description = "print the admin API's JSON" };
        var command = new Command("cluster", "show the cluster as one node sees it: members, window owners, leader") { json };
        foreach (var option in admin.All) command.Options.Add(option);
        command.SetAction((result, cancellationToken) => ShowAsync(output, admin, result, "/api/v1/cluster",
            result.GetValue(json), AdminJson.Http.ClusterJson, cluster => Print(output, cluster), cancellationToken));
        return command;
    }

    private static void Print(CliOutput output, ClusterJson cluster)
    {
        output.Ansi.MarkupLine($"[bold]members[/] as seen by {Markup.Escape(Shown(cluster.Self))} ({Markup.Escape(Shown(cluster.SelfStatus))})");
        var members = new Table().Border(TableBorder.Simple).AddColumns("Address", "Status", "Roles", "Reachable", "");
        foreach (var member in cluster.Members ?? [])
        {
            var marks = new List<string>();
            if (member.Oldest) marks.Add("oldest");
            if (member.Self) marks.Add("self");
            members.AddRow(Markup.Escape(Shown(member.Address)), Markup.Escape(Shown(member.Status)),
                Markup.Escape(string.Join(",", member.Roles ?? [])), member.Reachable ? "yes" : "NO", string.Join(", ", marks));
        }
        output.Ansi.Write(members);

        output.Ansi.MarkupLine("[bold]windows[/]");
        var windows = new Table().Border(TableBorder.Simple).AddColumns("Application", "Owner");
        foreach (var window in cluster.Windows ?? [])
        {
            windows.AddRow(Markup.Escape(Shown(window.Application)), Markup.Escape(Shown(window.Owner, "none: unavailable right now")));
        }
        output.Ansi.Write(windows);

        output.Out.WriteLine($"leader: {Shown(cluster.Leader, "none")}");
        output.Out.WriteLine($"split-brain strategy: {Shown(cluster.SplitBrain)}");
        output.Out.WriteLine($"journal: {Shown(cluster.Journal)}");
    }
}
