using Microsoft.Playwright;

namespace KmsCluster.Dashboard.Tests;

/// <summary>One headless Chromium for the test class: Debian's executable (KMS_TEST_CHROMIUM, set by
/// tests/chromium-env.sh; else chromium on the PATH), driven by Playwright.</summary>
public sealed class Browser : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Chromium { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var executable = Environment.GetEnvironmentVariable("KMS_TEST_CHROMIUM") is { Length: > 0 } set ? set
            : new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
              ?? throw new InvalidOperationException("no Chromium: run tests/run.sh (it installs Debian's chromium) or set KMS_TEST_CHROMIUM");
        _playwright = await Playwright.CreateAsync();
        // --no-sandbox: CI runs the tests as root, where Chromium's sandbox refuses to start.
        Chromium = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = executable, Headless = true, Args = ["--no-sandbox"] });
    }

    public async Task DisposeAsync()
    {
        if (Chromium is not null) await Chromium.DisposeAsync();
        _playwright?.Dispose();
    }
}
