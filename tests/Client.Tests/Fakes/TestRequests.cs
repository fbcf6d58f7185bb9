using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Tests;

internal static class TestRequests
{
    /// <summary>Upper bound for anything a test waits for; never an expectation of speed.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static ActivationRequest New(string workstation = "pc-1") => new(
        Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), RequiredCount: 5, LicenseState.InitialGrace,
        MinutesLeft: 43200, IsVirtualMachine: false, workstation, DateTimeOffset.UtcNow);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after <see cref="Patience"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var patience = new CancellationTokenSource(Patience);
        while (!condition())
        {
            if (patience.IsCancellationRequested)
            {
                Assert.Fail($"still waiting for {what}");
            }
            await Task.Delay(10);
        }
    }
}
