using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace KmsCluster.Cli;

/// <summary><c>kms cluster --admin HOST:PORT [--json]</c>: the cluster as one node sees it.</summary>
internal static class ClusterCommand
{
    public static Command Create(CliOutput output)
    {
        var admin = new Option<string>("--admin") { Description = "the node's admin endpoint HOST:PORT", DefaultValueFactory = _ => AdminApi.DefaultEndpoint };
        var json = new Option<bool>("--json") { Description = "print the admin API's JSON" };
        var command = new Command("cluster", "show the cluster as one node sees it: members, window owners, leader") { admin, json };
        command.SetAction((result, cancellationToken) => AdminApi.ShowAsync(output, result.GetValue(admin)!, "/api/v1/cluster",
            result.GetValue(json), cluster =>
            {
                if (cluster.ValueKind != JsonValueKind.Object)
                {
                    return "the answer is not a cluster description";
                }
                Print(output, cluster);
                return null;
            }, cancellationToken));
        return command;
    }

    private static void Print(CliOutput output, JsonElement cluster)
    {
        output.Ansi.MarkupLine($"[bold]members[/] as seen by {Markup.Escape(Text(cluster, "self"))} ({Markup.Escape(Text(cluster, "selfStatus"))})");
        var members = new Table().Border(TableBorder.Simple).AddColumns("Address", "Status", "Roles", "Reachable", "");
        foreach (var member in Array(cluster, "members"))
        {
            var roles = string.Join(",", Array(member, "roles").Select(r => r.ValueKind == JsonValueKind.String ? r.GetString() : null));
            var marks = new List<string>();
            if (Flag(member, "oldest")) marks.Add("oldest");
            if (Flag(member, "self")) marks.Add("self");
            members.AddRow(Markup.Escape(Text(member, "address")), Markup.Escape(Text(member, "status")), Markup.Escape(roles),
                Reachability(member),
                string.Join(", ", marks));
        }
        output.Ansi.Write(members);

        output.Ansi.MarkupLine("[bold]windows[/]");
        var windows = new Table().Border(TableBorder.Simple).AddColumns("Application", "Owner");
        foreach (var window in Array(cluster, "windows"))
        {
            var owner = Text(window, "owner", "none: unavailable right now");
            windows.AddRow(Markup.Escape(Text(window, "application")), Markup.Escape(owner));
        }
        output.Ansi.Write(windows);

        output.Out.WriteLine($"leader: {Text(cluster, "leader", "none")}");
        output.Out.WriteLine($"split-brain strategy: {Text(cluster, "splitBrain")}");
        output.Out.WriteLine($"journal: {Text(cluster, "journal")}");
    }

    // Read leniently: a node one version apart may add or omit a field; show "?" rather than fail.
    private static string Text(JsonElement element, string name, string missing = "?") =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : missing;

    private static string Reachability(JsonElement member) =>
        member.ValueKind == JsonValueKind.Object && member.TryGetProperty("reachable", out var value)
            ? value.ValueKind switch { JsonValueKind.True => "yes", JsonValueKind.False => "NO", _ => "?" }
            : "?";

    private static bool Flag(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    private static IEnumerable<JsonElement> Array(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array ? value.EnumerateArray() : [];
}
