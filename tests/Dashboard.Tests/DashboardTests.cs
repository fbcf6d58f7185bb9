using KmsCluster.Client.Connection;
using KmsCluster.Testing;
using Microsoft.Playwright;

namespace KmsCluster.Dashboard.Tests;

/// <summary>The dashboard in a real headless Chromium against a real node: what an operator sees, with and without
/// the admin token, and a screenshot of it.</summary>
public sealed class DashboardTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _data = new();
    private NodeProcess _node = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeProcess.StartAsync(_data.Path, "--name", "dash-a");
        // Office: 6 machines pass its threshold of 5, so the window shows both activated and not activated answers.
        await using var connection = await _node.OpenConnectionAsync();
        for (var i = 0; i < 6; i++)
        {
            await connection.ActivateAsync(Requests.For("office-ltsc-2024-professional-plus"), Answer);
        }
        await connection.ActivateAsync(Requests.For("office-ltsc-2024-professional-plus") with { ClientTime = DateTimeOffset.UtcNow.AddDays(2) }, Answer);
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        _data.Dispose();
    }

    private async Task<IPage> OpenAsync(string address)
    {
        var page = await browser.Chromium.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 1400 } });
        await page.GotoAsync(address);
        return page;
    }

    private static async Task<string> PanelAsync(IPage page, string id)
    {
        var panel = page.Locator($"#{id}[data-state=ok]");
        await panel.WaitForAsync(new() { Timeout = 30_000 });
        return await panel.InnerTextAsync();
    }

    [Fact]
    public async Task With_the_address_kms_dashboard_prints_every_panel_shows_the_node_and_a_screenshot_is_written()
    {
        var (exit, address, error) = await KmsCli.RunAsync("dashboard", "--admin", _node.AdminEndpoint, "--data", _data.Path);
        Assert.True(exit == 0, error);
        Assert.Equal($"{_node.AdminUri}dashboard#token={_node.AdminToken}", address.Trim());
        var page = await OpenAsync(address.Trim());

        var requests = await PanelAsync(page, "requests");
        Assert.Contains("dash-a", await page.Locator("#node-name").InnerTextAsync());
        Assert.Contains("clock-skew", requests); // the refused request, by its code
        var windows = await PanelAsync(page, "windows");
        Assert.Contains("Office", windows);
        Assert.Contains("office 5 reached", windows.Replace('\n', ' ').Replace('\t', ' '), StringComparison.Ordinal);
        Assert.Contains("Up", await PanelAsync(page, "cluster"));
        Assert.Contains("demo-office-ltsc-2024", await PanelAsync(page, "keys"));
        Assert.Contains("publishing is off", await PanelAsync(page, "dns"));
        await PanelAsync(page, "activity");
        // The token left the address bar once read.
        Assert.DoesNotContain("token", page.Url, StringComparison.Ordinal);

        var screenshot = Path.Combine(AppContext.BaseDirectory, "TestResults", "dashboard.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is empty");
    }

    [Fact]
    public async Task The_clients_panel_lists_the_machines_answered_and_filters_them()
    {
        var page = await OpenAsync($"{_node.AdminUri}dashboard#token={_node.AdminToken}");
        // The registry is written about a second after the answers; the panel refreshes every 5 s.
        var clients = page.Locator("#clients[data-state=ok]").Filter(new() { HasText = "office-ltsc-2024-professional-plus" });
        await clients.WaitForAsync(new() { Timeout = 30_000 });
        var text = await clients.InnerTextAsync();
        Assert.Equal(6, text.Split('\n').Count(l => l.Contains("office-ltsc-2024-professional-plus", StringComparison.Ordinal)));
        Assert.Contains("dash-a", text); // the node that answered

        // Only activated machines (the 5th and 6th): a table of them, no "count N" answer left.
        await page.SelectOptionAsync("#clients-activated", "true");
        await page.ClickAsync("#clients-filter button");
        await page.Locator("#clients[data-state=ok]").Filter(new() { HasText = "valid until" })
            .Filter(new() { HasNotText = "count " }).WaitForAsync(new() { Timeout = 30_000 });

        await page.FillAsync("#clients-search", "no-such-machine");
        await page.ClickAsync("#clients-filter button");
        await page.Locator("#clients[data-state=ok]").Filter(new() { HasText = "no machines match" }).WaitForAsync(new() { Timeout = 30_000 });

        // A malformed filter: the API's 400 names the parameter, in the panel; the other panels carry on.
        await page.FillAsync("#clients-silent", "soon");
        await page.ClickAsync("#clients-filter button");
        var error = page.Locator("#clients[data-state=error]");
        await error.WaitForAsync(new() { Timeout = 30_000 });
        Assert.Contains("400: silentFor: ", await error.InnerTextAsync());
        await PanelAsync(page, "requests");
    }

    [Fact]
    public async Task Without_a_token_or_with_a_wrong_one_the_page_asks_for_it_and_shows_no_data()
    {
        var page = await OpenAsync($"{_node.AdminUri}dashboard");
        await page.Locator("#token-form").WaitForAsync(new() { State = WaitForSelectorState.Visible });
        Assert.True(await page.Locator("#panels").IsHiddenAsync());

        await page.FillAsync("#token", "not-the-token");
        await page.ClickAsync("#token-form button");
        await page.Locator("#token-problem").Filter(new() { HasText = "refused" }).WaitForAsync(new() { Timeout = 30_000 });
        Assert.True(await page.Locator("#panels").IsHiddenAsync());
        Assert.DoesNotContain("dash-a", await page.ContentAsync());

        await page.FillAsync("#token", _node.AdminToken!);
        await page.ClickAsync("#token-form button");
        Assert.Contains("Office", await PanelAsync(page, "windows"));
    }

    [Fact]
    public async Task A_part_the_node_cannot_reach_says_so_and_the_rest_stays()
    {
        var page = await browser.Chromium.NewPageAsync();
        // What a window answers while its owner is down (AdminApi: 503 with the reason); the other window answers.
        await page.RouteAsync("**/api/v1/windows/office", route => route.FulfillAsync(new()
        {
            Status = 503, ContentType = "application/json", Body = "{\"error\":\"window unavailable, retry later: owner unreachable\"}",
        }));
        await page.RouteAsync("**/api/v1/host/dns", route => route.AbortAsync());
        await page.GotoAsync($"{_node.AdminUri}dashboard#token={_node.AdminToken}");
        var windows = page.Locator("#windows[data-state=partial]");
        await windows.WaitForAsync(new() { Timeout = 30_000 });
        var text = await windows.InnerTextAsync();
        Assert.Contains("Could not reach /api/v1/windows/office: 503: window unavailable, retry later: owner unreachable", text);
        Assert.Contains("windows-client 25 not reached", text); // the Windows window, reached
        var dns = page.Locator("#dns[data-state=error]");
        await dns.WaitForAsync(new() { Timeout = 30_000 });
        Assert.Contains("Could not reach /api/v1/host/dns", await dns.InnerTextAsync());
        Assert.Contains("Up", await PanelAsync(page, "cluster"));
        await PanelAsync(page, "requests");
        Assert.Contains("dash-a", await page.Locator("#node-name").InnerTextAsync());
    }
}
