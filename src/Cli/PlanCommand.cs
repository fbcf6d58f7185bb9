using System.CommandLine;
using KmsCluster.Cli.Planning;
using Spectre.Console;

namespace KmsCluster.Cli;

/// <summary>
/// <c>kms plan</c>: a planning assistant for a KMS deployment, from the catalogue's tables.
/// <c>--host-os H --clients A,B</c>: which host-key group covers the clients, whether H can hold it and which
/// minimum update H needs for each newer client. <c>--clients-count N [--sites S]</c>: how many hosts, and whether the
/// clients will ever reach their activation threshold. Exit 0 when the plan works, 1 when it is impossible, 4 for a
/// usage error or an unknown name.
/// </summary>
internal static class PlanCommand
{
    public const int Impossible = 1;

    public static Command Create(CliOutput output)
    {
        var hostOs = new Option<string?>("--host-os") { Description = "the host's operating system, e.g. \"Windows Server 2019\"", HelpName = "NAME" };
        var clients = new Option<string[]>("--clients")
        {
            Description = "client editions or product families, comma-separated or repeated, e.g. \"Windows Server 2025,Windows 11 Enterprise\"",
            HelpName = "LIST",
            AllowMultipleArgumentsPerToken = false,
        };
        var clientsCount = new Option<int?>("--clients-count") { Description = "how many client machines count in one application window", HelpName = "N" };
        var sites = new Option<int>("--sites") { Description = "separate sites (each needs its own host)", DefaultValueFactory = _ => 1, HelpName = "S" };
        var catalogFile = CatalogOption.Create();
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var command = new Command("plan", "plan a deployment: host-key group, host OS and updates for given clients; number of hosts for a number of clients")
        {
            hostOs, clients, clientsCount, sites, catalogFile, json,
        };
        command.SetAction(result =>
        {
            try
            {
                var planner = new DeploymentPlanner(CatalogOption.Load(result.GetValue(catalogFile)));
                var clientNames = (result.GetValue(clients) ?? [])
                    .SelectMany(list => list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
                var host = result.GetValue(hostOs);
                var count = result.GetValue(clientsCount);
                if (host is null && clientNames.Count == 0 && count is null)
                {
                    throw new UsageException("give --host-os with --clients, or --clients-count (see kms plan --help)");
                }
                if ((host is null) != (clientNames.Count == 0))
                {
                    throw new UsageException("--host-os and --clients go together: the plan is for clients of a host");
                }
                if (count is < 1 or > 10_000_000)
                {
                    throw new UsageException($"--clients-count: {count} is not from 1 to 10000000");
                }
                var siteCount = result.GetValue(sites);
                if (siteCount is < 1 or > 10_000)
                {
                    throw new UsageException($"--sites: {siteCount} is not from 1 to 10000");
                }

                var compatibility = host is null ? null
                    : planner.Compatibility(planner.HostOs(host), clientNames.Select(planner.Client).ToList());
                var sizing = count is { } n ? planner.Sizing(n, siteCount) : null;
                if (result.GetValue(json))
                {
                    output.WriteJson(new { compatibility = CompatibilityJson(compatibility), sizing = SizingJson(sizing) });
                }
                else
                {
                    if (compatibility is not null) Print(output, compatibility);
                    if (sizing is not null) Print(output, sizing);
                }
                return compatibility is { Possible: false } ? Impossible : ExitCodes.Activated;
            }
            catch (UsageException e)
            {
                return output.Fail(ExitCodes.Usage, e.Message);
            }
            catch (UnknownNameException e)
            {
                return output.Fail(ExitCodes.Usage, e.Message);
            }
        });
        return command;
    }

    private static void Print(CliOutput output, CompatibilityPlan plan)
    {
        output.Ansi.MarkupLine($"[bold]host OS[/]: {Markup.Escape(plan.HostOs.Name)} ({plan.HostOs.KindName} OS)");
        var table = new Table().Border(TableBorder.Simple).AddColumns("Client", "Editions", "Host key group", $"Minimum update on {Markup.Escape(plan.HostOs.Name)}");
        foreach (var client in plan.Clients)
        {
            table.AddRow(
                Markup.Escape(client.Client.Name),
                client.Client.Products.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(client.KeyGroup?.Name ?? "none"),
                Markup.Escape(client.MinimumUpdate?.Update ?? "none listed"));
        }
        output.Ansi.Write(table);
        if (plan.Possible)
        {
            foreach (var (group, covers) in plan.KeyGroups)
            {
                output.Out.WriteLine($"host key: one of group \"{group.Name}\" covers {string.Join(", ", covers)}");
            }
            output.Out.WriteLine($"plan: possible on {plan.HostOs.Name}");
        }
        else
        {
            output.Out.WriteLine($"plan: impossible on {plan.HostOs.Name}:");
            foreach (var problem in plan.Problems)
            {
                output.Out.WriteLine($"  - {problem}");
            }
        }
    }

    private static void Print(CliOutput output, SizingPlan plan)
    {
        output.Ansi.MarkupLine($"[bold]hosts[/]: {plan.Hosts} for {plan.Clients} clients at {plan.Sites} site(s)");
        foreach (var reason in plan.Reasons)
        {
            output.Out.WriteLine($"  - {reason}");
        }
        output.Out.WriteLine($"expected count per window: {plan.CountPerWindow}");
        foreach (var check in plan.Thresholds)
        {
            output.Out.WriteLine(check.Warning is { } warning
                ? $"warning: {warning}"
                : $"ok: {check.Kind} editions (threshold {check.Threshold}) activate");
        }
    }

    private static object? CompatibilityJson(CompatibilityPlan? plan) => plan is null ? null : new
    {
        hostOs = plan.HostOs.Name,
        hostOsKind = plan.HostOs.KindName,
        possible = plan.Possible,
        keyGroups = plan.KeyGroups.Select(g => new { group = g.Group.Name, covers = g.Covers }),
        clients = plan.Clients.Select(c => new
        {
            name = c.Client.Name,
            family = c.Client.Family,
            products = c.Client.Products.Select(p => p.Slug),
            keyGroup = c.KeyGroup?.Name,
            minimumUpdate = c.MinimumUpdate is { } update ? new { update = update.Update, released = update.Released } : null,
            problem = c.Problem,
        }),
        problems = plan.Problems,
    };

    private static object? SizingJson(SizingPlan? plan) => plan is null ? null : new
    {
        clients = plan.Clients,
        sites = plan.Sites,
        hosts = plan.Hosts,
        reasons = plan.Reasons,
        countPerWindow = plan.CountPerWindow,
        thresholds = plan.Thresholds.Select(t => new { kind = t.Kind, threshold = t.Threshold, reached = t.Reached }),
        warnings = plan.Warnings,
    };
}
