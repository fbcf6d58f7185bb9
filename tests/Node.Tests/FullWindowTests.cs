using KmsCluster.Protocol.Admin;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>A single node process whose window fills: it grants itself the full window's promise, answers from it,
/// and every contact it answered that way is journaled behind the answers, a graceful stop included.</summary>
public sealed class FullWindowTests
{
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(30);
    private const string Office = "office-ltsc-2024-professional-plus";

    [Fact]
    public async Task A_full_window_answers_from_its_grant_and_the_contacts_behind_the_answers_are_journaled_before_a_stop()
    {
        using var data = new TempDirectory();
        var machines = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid()).ToArray();

        await using (var node = await NodeProcess.StartAsync(data.Path))
        {
            await using var connection = await node.OpenConnectionAsync();
            using var admin = new AdminClient(node);
            for (var i = 0; i < 10; i++)
            {
                var response = (await connection.ActivateAsync(Requests.For(Office, machines[i]), Answer)).Response;
                Assert.Equal(i + 1, response.CurrentCount);
            }
            var grant = await GrantAsync(admin);
            Assert.Equal(10, grant.Capacity);
            Assert.Equal(5, grant.HighestThreshold);

            for (var i = 10; i < machines.Length; i++)
            {
                var response = (await connection.ActivateAsync(Requests.For(Office, machines[i]), Answer)).Response;
                Assert.Equal(10, response.CurrentCount);
                Assert.True(response.Activated);
            }
            Assert.Equal(0, await node.StopGracefullyAsync());
        }

        await using var restarted = await NodeProcess.StartAsync(data.Path);
        using var restartedAdmin = new AdminClient(restarted);
        var window = await restartedAdmin.WindowAsync("office");
        Assert.Equal(machines.Length, window.Requests);
        Assert.Equal(machines[^10..].ToHashSet(), window.Contacts.Select(c => c.Cmid).ToHashSet());
    }

    [Fact]
    public async Task With_grants_off_a_full_window_holds_no_grant_and_answers_every_contact_once_durable()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--grant-lease", "0");
        await using var connection = await node.OpenConnectionAsync();
        using var admin = new AdminClient(node);
        for (var i = 0; i < 12; i++)
        {
            var response = (await connection.ActivateAsync(Requests.For(Office), Answer)).Response;
            Assert.Equal(Math.Min(i + 1, 10), response.CurrentCount);
            // Each answer is durable: the window already counts it.
            Assert.Equal(i + 1, (await admin.WindowAsync("office")).Requests);
        }
        Assert.Null((await admin.WindowAsync("office")).Grant);
    }

    private static async Task<GrantJson> GrantAsync(AdminClient admin)
    {
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            if ((await admin.WindowAsync("office")).Grant is { } grant) return grant;
            await Task.Delay(50, patience.Token);
        }
    }
}
