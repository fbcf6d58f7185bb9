using System.Text.Json;
using KmsCluster.Cli;

using KmsCluster.Client.Tests;

namespace KmsCluster.Cli.Tests;

/// <summary>
/// <c>kms plan</c> run in-process. The two seed tables of the KMS model (the Windows Server 2025 host-key group, and
/// the updates a host needs for newer clients) are written out here row by row, independently of the catalogue
/// file, and every row is asked of <c>kms plan</c>.
/// </summary>
public sealed class PlanCommandTests
{
    private const string WindowsGroup = "Windows Server 2025 volume licence";

    private static Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(params string[] args) => CliTests.RunAsync(args);

    private static async Task<(int ExitCode, JsonElement Plan)> PlanAsync(string hostOs, string clients)
    {
        var (exit, stdout, stderr) = await RunAsync("plan", "--host-os", hostOs, "--clients", clients, "--json");
        Assert.True(exit is 0 or 1, stderr);
        return (exit, JsonDocument.Parse(stdout).RootElement.GetProperty("compatibility"));
    }

    private static JsonElement Client(JsonElement plan, string name) =>
        plan.GetProperty("clients").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    [Fact]
    public async Task The_issue_example_names_the_group_and_the_update_2019_needs_for_2025_clients()
    {
        var (exit, plan) = await PlanAsync("Windows Server 2019", "Windows Server 2025,Windows 11 Enterprise");

        Assert.Equal(0, exit);
        Assert.True(plan.GetProperty("possible").GetBoolean());
        var group = Assert.Single(plan.GetProperty("keyGroups").EnumerateArray());
        Assert.Equal(WindowsGroup, group.GetProperty("group").GetString());
        Assert.Equal(["Windows Server 2025", "Windows 11 Enterprise"], group.GetProperty("covers").EnumerateArray().Select(c => c.GetString()));
        var server = Client(plan, "Windows Server 2025");
        Assert.Equal("cumulative update of 2024-02-13, KB5034768, or later", server.GetProperty("minimumUpdate").GetProperty("update").GetString());
        Assert.Equal("2024-02-13", server.GetProperty("minimumUpdate").GetProperty("released").GetString());
        Assert.Equal(["windows-server-2025-standard", "windows-server-2025-datacenter"],
            server.GetProperty("products").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(JsonValueKind.Null, Client(plan, "Windows 11 Enterprise").GetProperty("minimumUpdate").ValueKind);
    }

    [Fact]
    public async Task The_text_plan_shows_the_group_the_update_and_the_verdict()
    {
        var (exit, stdout, _) = await RunAsync("plan", "--host-os", "Windows Server 2019", "--clients", "Windows Server 2025", "--clients", "windows-11-pro");

        Assert.Equal(0, exit);
        Assert.Contains("host OS: Windows Server 2019 (server OS)", stdout);
        Assert.Contains("cumulative update of 2024-02-13, KB5034768, or later", stdout);
        Assert.Contains($"host key: one of group \"{WindowsGroup}\" covers Windows Server 2025, Windows 11 Pro", stdout);
        Assert.Contains("plan: possible on Windows Server 2019", stdout);
    }

    // The host-key group table: "can be hosted on Windows Server 2025, 2022, 2019, 2016".
    [Theory]
    [InlineData("Windows Server 2025")]
    [InlineData("Windows Server 2022")]
    [InlineData("Windows Server 2019")]
    [InlineData("Windows Server 2016")]
    public async Task The_windows_group_can_be_hosted_on_each_server_the_table_lists(string hostOs)
    {
        var (exit, plan) = await PlanAsync(hostOs, "Windows Server 2016");
        Assert.Equal(0, exit);
        Assert.Equal(WindowsGroup, Client(plan, "Windows Server 2016").GetProperty("keyGroup").GetString());
    }

    [Theory]
    [InlineData("Windows Server 2012 R2")]
    [InlineData("Windows Server 2012")]
    [InlineData("Windows Server 2008 R2")]
    [InlineData("Windows 11")]
    public async Task The_windows_group_cannot_be_hosted_anywhere_else_and_the_plan_says_why(string hostOs)
    {
        var (exit, plan) = await PlanAsync(hostOs, "Windows 11 Pro");
        Assert.Equal(1, exit);
        Assert.False(plan.GetProperty("possible").GetBoolean());
        var problem = Client(plan, "Windows 11 Pro").GetProperty("problem").GetString();
        Assert.Contains($"\"{WindowsGroup}\" (hostable on Windows Server 2025, Windows Server 2022, Windows Server 2019, Windows Server 2016), not on {hostOs}", problem);
    }

    // The host-key group table: what the group activates, as the model words it.
    public static TheoryData<string> ActivatedByTheWindowsGroup => new()
    {
        // "Windows Server 2025, 2022, Semi-Annual Channel, 2019, 2016, 2012 R2, 2012, 2008 R2, 2008 (all editions)"
        "Windows Server 2025", "Windows Server 2022", "Windows Server Semi-Annual Channel", "Windows Server 2019",
        "Windows Server 2016", "Windows Server 2012 R2", "Windows Server 2012", "Windows Server 2008 R2", "Windows Server 2008",
        // "Windows 11 Enterprise/Enterprise N, Pro/Pro N, Pro for Workstations/N, Education/Education N"
        "Windows 11 Enterprise", "Windows 11 Enterprise N", "Windows 11 Pro", "Windows 11 Pro N", "Windows 11 Pro for Workstations",
        "Windows 11 Pro for Workstations N", "Windows 11 Education", "Windows 11 Education N",
        // "Windows 10 Enterprise LTSC/LTSC N/LTSB, Enterprise/Enterprise N, Pro/Pro N, Pro for Workstations/N, Education/Education N"
        "Windows 10 Enterprise LTSC", "Windows 10 Enterprise LTSC N", "Windows 10 Enterprise LTSB", "Windows 10 Enterprise",
        "Windows 10 Enterprise N", "Windows 10 Pro", "Windows 10 Pro N", "Windows 10 Pro for Workstations",
        "Windows 10 Pro for Workstations N", "Windows 10 Education", "Windows 10 Education N",
        // "Windows 8.1 Enterprise, Pro; Windows 7 Enterprise, Pro"
        "Windows 8.1 Enterprise", "Windows 8.1 Pro", "Windows 7 Enterprise", "Windows 7 Professional",
    };

    [Theory]
    [MemberData(nameof(ActivatedByTheWindowsGroup))]
    public async Task Each_edition_the_table_lists_is_activated_by_the_windows_group(string client)
    {
        var (exit, plan) = await PlanAsync("Windows Server 2025", client);
        Assert.Equal(0, exit);
        var verdict = Client(plan, client);
        Assert.Equal(WindowsGroup, verdict.GetProperty("keyGroup").GetString());
        Assert.NotEmpty(verdict.GetProperty("products").EnumerateArray());
    }

    // The minimum-update table, row by row: (host, a newer client of the row, the update the host needs for it,
    // whether a Windows Server 2025 group key can be hosted there at all).
    public static TheoryData<string, string, string, bool> MinimumUpdates => new()
    {
        { "Windows Server 2022", "Windows Server 2025", "cumulative update of 2024-02-13, KB5034765, or later", true },
        { "Windows Server 2019", "Windows Server 2025", "cumulative update of 2024-02-13, KB5034768, or later", true },
        { "Windows Server 2019", "Windows Server 2022", "cumulative update of 2021-06-08, KB5003646, or later", true },
        { "Windows Server 2016", "Windows Server 2022", "cumulative update of 2021-06-08, KB5003638, or later", true },
        // The 2016 rows both name 2019: the earlier update of 2018 is the minimum.
        { "Windows Server 2016", "Windows Server 2019", "cumulative update of 2018-12-03, KB4478877, or later", true },
        { "Windows Server 2012 R2", "Windows Server 2019", "monthly rollup of 2018-11-27, KB4467695, or later", false },
        // The 2012 R2 rows both name 2016 and Windows 10: the July 2016 rollup is the minimum.
        { "Windows Server 2012 R2", "Windows Server 2016", "July 2016 update rollup for 8.1/2012 R2 or a later monthly rollup", false },
        { "Windows Server 2012 R2", "Windows 10", "July 2016 update rollup for 8.1/2012 R2 or a later monthly rollup", false },
        { "Windows Server 2012", "Windows Server 2016", "July 2016 update rollup for 2012 or a later monthly rollup", false },
        { "Windows Server 2012", "Windows Server 2012 R2", "July 2016 update rollup for 2012 or a later monthly rollup", false },
        { "Windows Server 2012", "Windows 10", "July 2016 update rollup for 2012 or a later monthly rollup", false },
        { "Windows Server 2008 R2", "Windows Server 2012 R2", "the update that lets 7/2008 R2 hosts activate Windows 10", false },
        { "Windows Server 2008 R2", "Windows Server 2012", "the update that lets 7/2008 R2 hosts activate Windows 10", false },
        { "Windows Server 2008 R2", "Windows 10", "the update that lets 7/2008 R2 hosts activate Windows 10", false },
        { "Windows 8.1", "Windows 10", "July 2016 update rollup for 8.1/2012 R2 or a later monthly rollup", false },
        { "Windows 7", "Windows 10", "the update that lets 7/2008 R2 hosts activate Windows 10", false },
    };

    [Theory]
    [MemberData(nameof(MinimumUpdates))]
    public async Task Each_row_of_the_update_table_is_the_plans_minimum_update(string hostOs, string client, string update, bool hostable)
    {
        var (exit, plan) = await PlanAsync(hostOs, client);

        Assert.Equal(update, Client(plan, client).GetProperty("minimumUpdate").GetProperty("update").GetString());
        // The update is true of the host either way; whether today's key group can be hosted there is another matter.
        Assert.Equal(hostable ? 0 : 1, exit);
        Assert.Equal(hostable, plan.GetProperty("possible").GetBoolean());
    }

    [Fact]
    public async Task A_client_os_host_takes_an_office_key_but_activates_no_server_edition()
    {
        var (exit, plan) = await PlanAsync("Windows 11", "Office LTSC 2024,Windows Server 2022");

        Assert.Equal(1, exit);
        Assert.Equal("Office LTSC 2024 volume licence", Client(plan, "Office LTSC 2024").GetProperty("keyGroup").GetString());
        Assert.Contains("a host on a client OS (Windows 11) activates client editions only",
            Client(plan, "Windows Server 2022").GetProperty("problem").GetString());
    }

    [Fact]
    public async Task Windows_and_office_clients_need_two_keys()
    {
        var (exit, plan) = await PlanAsync("Windows Server 2022", "Windows 10 Enterprise,office-ltsc-2021-standard,Windows Server 2019");

        Assert.Equal(0, exit);
        Assert.Equal([WindowsGroup, "Office LTSC 2024 volume licence"],
            plan.GetProperty("keyGroups").EnumerateArray().Select(g => g.GetProperty("group").GetString()));
    }

    [Theory]
    [InlineData(12, 1, 1, 12, "windows-client editions need a count of 25, but a window here reaches at most 12 (12 clients): they will never activate")]
    [InlineData(50, 1, 1, 50, null)]
    [InlineData(51, 1, 2, 50, null)]
    [InlineData(300, 3, 3, 50, null)]
    [InlineData(40, 4, 4, 10, "windows-client editions need a count of 25, but a window here reaches at most 10 (40 clients over 4 sites): they will never activate")]
    [InlineData(9, 3, 3, 3, "windows-server editions need a count of 5")]
    public async Task Sizing_recommends_hosts_and_warns_when_a_window_cannot_reach_a_threshold(int clients, int sites, int hosts,
        int count, string? warning)
    {
        var (exit, stdout, stderr) = await RunAsync("plan", "--clients-count", clients.ToString(), "--sites", sites.ToString(), "--json");

        Assert.True(exit == 0, stderr);
        var sizing = JsonDocument.Parse(stdout).RootElement.GetProperty("sizing");
        Assert.Equal(hosts, sizing.GetProperty("hosts").GetInt32());
        Assert.Equal(count, sizing.GetProperty("countPerWindow").GetInt32());
        var warnings = sizing.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()!).ToList();
        if (warning is null)
        {
            Assert.Empty(warnings);
        }
        else
        {
            Assert.Contains(warnings, w => w.StartsWith(warning, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Sizing_in_text_gives_the_reasons_and_the_warning()
    {
        var (exit, stdout, _) = await RunAsync("plan", "--clients-count", "60", "--sites", "3");

        Assert.Equal(0, exit);
        Assert.Contains("hosts: 3 for 60 clients at 3 site(s)", stdout);
        Assert.Contains("more than 50 clients: two hosts, so that one can fail", stdout);
        Assert.Contains("3 separate sites: a host at each site", stdout);
        Assert.Contains("expected count per window: 20", stdout);
        Assert.Contains("ok: windows-server editions (threshold 5) activate", stdout);
        Assert.Contains("warning: windows-client editions need a count of 25", stdout);
    }

    [Theory]
    [InlineData("--host-os", "Windows Server 2091", "--clients", "Windows 11 Pro", "unknown host OS \"Windows Server 2091\"; closest: Windows Server 2019")]
    [InlineData("--host-os", "Windows Server 2019", "--clients", "Windows 11 Enterprize", "unknown client \"Windows 11 Enterprize\"; closest: Windows 11 Enterprise")]
    [InlineData("--host-os", "Windows Server 2019", "--clients", "Windos Server 2025", "unknown client \"Windos Server 2025\"; closest: Windows Server 2025")]
    public async Task An_unknown_name_gets_the_closest_known_names_and_no_stack_trace(string flag1, string value1, string flag2, string value2,
        string message)
    {
        var (exit, stdout, stderr) = await RunAsync("plan", flag1, value1, flag2, value2);

        Assert.Equal(4, exit);
        Assert.Empty(stdout);
        Assert.StartsWith("kms: " + message, stderr);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("give --host-os with --clients, or --clients-count")]
    [InlineData("--host-os and --clients go together", "--host-os", "Windows Server 2019")]
    [InlineData("--clients-count: 0 is not from 1", "--clients-count", "0")]
    [InlineData("--sites: 0 is not from 1", "--clients-count", "10", "--sites", "0")]
    public async Task A_plan_without_what_it_needs_is_a_usage_error(string message, params string[] args)
    {
        var (exit, _, stderr) = await RunAsync(["plan", .. args]);
        Assert.Equal(4, exit);
        Assert.Contains(message, stderr);
    }
}
