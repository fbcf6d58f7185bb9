using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using KmsCluster.Protocol.Admin;
using Spectre.Console;
using static KmsCluster.Cli.AdminApi;

namespace KmsCluster.Cli;

/// <summary>
/// <c>kms clients [--product P] [--activated | --not-activated] [--expiring-within 30d] [--silent-for 14d]
/// [--search TEXT] [--limit N | --all] [--json | --csv]</c>: the client registry, newest contact first, read page by
/// page from <c>GET /api/v1/clients</c> (its cursor) until the limit or the end.
/// </summary>
internal static class ClientsCommand
{
    /// <summary>The API's largest page.</summary>
    private const int PageSize = 1000;

    public static Command Create(CliOutput output)
    {
        var admin = new AdminOptions();
        var product = new Option<string?>("--product") { Description = "only this product (slug, id or name)" };
        var activated = new Option<bool>("--activated") { Description = "only machines whose last answer activated them" };
        var notActivated = new Option<bool>("--not-activated") { Description = "only machines whose last answer did not" };
        var expiring = new Option<string?>("--expiring-within") { Description = "only activations that run out within this time (30d, 12h)" };
        var silent = new Option<string?>("--silent-for") { Description = "only machines silent for at least this long (14d)" };
        var search = new Option<string?>("--search") { Description = "CMID or workstation name containing TEXT" };
        var limit = new Option<int>("--limit") { Description = "show at most N machines", DefaultValueFactory = _ => 100 };
        var all = new Option<bool>("--all") { Description = "every machine that matches, page after page" };
        var json = new Option<bool>("--json") { Description = "print the rows as JSON (the API's clients and next fields)" };
        var csv = new Option<bool>("--csv") { Description = "print the rows as CSV with a header line" };
        var command = new Command("clients", "the client registry: every machine that got an answer, per application")
        {
            product, activated, notActivated, expiring, silent, search, limit, all, json, csv,
        };
        foreach (var option in admin.All) command.Options.Add(option);
        command.SetAction(async (result, cancellationToken) =>
        {
            if (result.GetValue(activated) && result.GetValue(notActivated))
            {
                return output.Fail(ExitCodes.Usage, "--activated and --not-activated exclude each other");
            }
            if (result.GetValue(json) && result.GetValue(csv))
            {
                return output.Fail(ExitCodes.Usage, "--json and --csv exclude each other");
            }
            var wanted = result.GetValue(all) ? int.MaxValue : result.GetValue(limit);
            if (wanted < 1)
            {
                return output.Fail(ExitCodes.Usage, "--limit: give a number from 1 up");
            }
            var filters = new List<string>();
            void Add(string name, string? value)
            {
                if (value is not null) filters.Add(name + "=" + Uri.EscapeDataString(value));
            }
            Add("product", result.GetValue(product));
            Add("activated", result.GetValue(activated) ? "true" : result.GetValue(notActivated) ? "false" : null);
            Add("expiringWithin", result.GetValue(expiring));
            Add("silentFor", result.GetValue(silent));
            Add("search", result.GetValue(search));
            try
            {
                var target = admin.Resolve(result);
                var (rows, next, failure) = await FetchAsync(target, filters, wanted, cancellationToken);
                if (failure is not null)
                {
                    return output.Fail(failure.Value.Exit, failure.Value.Message);
                }
                if (result.GetValue(json))
                {
                    output.Out.WriteLine(JsonSerializer.Serialize(new ClientsPageJson(rows, next), AdminJson.Http.ClientsPageJson));
                }
                else if (result.GetValue(csv))
                {
                    ClientsCsv.Write(output.Out, rows);
                }
                else
                {
                    PrintTable(output, rows, next);
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

    /// <summary>Pages until <paramref name="wanted"/> rows or the last page; a refused request ends it (400: a usage error).</summary>
    private static async Task<(List<ClientJson> Rows, string? Next, (int Exit, string Message)? Failure)> FetchAsync(
        AdminTarget target, IReadOnlyList<string> filters, int wanted, CancellationToken cancellationToken)
    {
        var rows = new List<ClientJson>();
        string? after = null;
        while (true)
        {
            var query = filters.Append("limit=" + Math.Min(PageSize, wanted - rows.Count).ToString(CultureInfo.InvariantCulture));
            if (after is not null) query = query.Append("after=" + Uri.EscapeDataString(after));
            var answer = await SendAsync(HttpMethod.Get, target, "/api/v1/clients?" + string.Join("&", query), cancellationToken);
            if (!answer.IsSuccess)
            {
                return (rows, null, (answer.Status == HttpStatusCode.BadRequest ? ExitCodes.Usage : ExitCodes.Refused, Failure(target, answer)));
            }
            var page = answer.Read(AdminJson.Http.ClientsPageJson);
            rows.AddRange(page.Clients ?? []);
            after = page.Next;
            if (after is null || rows.Count >= wanted)
            {
                return (rows, after, null);
            }
        }
    }

    private static void PrintTable(CliOutput output, IReadOnlyList<ClientJson> rows, string? next)
    {
        if (rows.Count == 0)
        {
            output.Out.WriteLine("no machines match");
            return;
        }
        var table = new Table().Border(TableBorder.Simple).AddColumns("CMID", "Workstation", "Product", "VM",
            "Last contact (UTC)", "Answer", "Valid until (UTC)", "Node");
        foreach (var c in rows)
        {
            var workstation = Shown(c.Workstation, "") + (c.Cloned ? " (cloned CMID)" : "");
            table.AddRow(c.Cmid.ToString(), Markup.Escape(workstation), Markup.Escape(Shown(c.Product, "")), c.VirtualMachine ? "yes" : "no",
                c.LastContact.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                c.Activated ? "activated" : $"count {c.LastCount}",
                c.ValidUntil?.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
                Markup.Escape(Shown(c.Node, "")));
        }
        output.Ansi.Write(table);
        output.Out.WriteLine(next is null ? $"{rows.Count} machines" : $"{rows.Count} machines shown; more match (--limit N or --all)");
    }
}
