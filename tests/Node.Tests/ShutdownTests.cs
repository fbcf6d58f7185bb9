using KmsCluster.Client.Connection;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>SIGTERM under load: stop accepting, answer what is in flight, exit 0, lose nothing acknowledged.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task Sigterm_under_load_loses_no_acknowledged_contact()
    {
        using var data = new TempDirectory();
        // Fewer machines than the window keeps, so every acknowledged machine must still be stored.
        var machines = Enumerable.Range(0, 40).Select(_ => Guid.NewGuid()).ToArray();
        var acknowledged = new HashSet<Guid>();
        var answered = 0;

        await using (var node = await NodeProcess.StartAsync(data.Path))
        {
            await using var connection = await node.OpenConnectionAsync();
            var load = Task.Run(async () =>
            {
                for (var round = 0; ; round++)
                {
                    var burst = machines.Select(cmid => connection.ActivateAsync(
                        Requests.For("windows-11-enterprise", cmid), TimeSpan.FromSeconds(30))).ToArray();
                    try
                    {
                        await Task.WhenAll(burst);
                    }
                    catch (Exception e) when (e is KmsConnectionException or TimeoutException)
                    {
                        // The node went away; what was answered before counts.
                    }
                    foreach (var task in burst.Where(t => t.IsCompletedSuccessfully && !t.Result.IsError))
                    {
                        lock (acknowledged) acknowledged.Add(task.Result.Response.ClientMachineId);
                        Interlocked.Increment(ref answered);
                    }
                    if (burst.Any(t => !t.IsCompletedSuccessfully)) return;
                }
            });
            while (Volatile.Read(ref answered) < 200) await Task.Delay(20);

            Assert.Equal(0, await node.StopGracefullyAsync());
            await load.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Contains("stopped", node.Output);
        }

        await using var restarted = await NodeProcess.StartAsync(data.Path);
        using var admin = new AdminClient(restarted);
        var stored = (await admin.WindowAsync("windows")).Contacts.Select(c => c.Cmid).ToHashSet();
        Assert.NotEmpty(acknowledged);
        Assert.Subset(stored, acknowledged);
    }

    [Fact]
    public async Task An_idle_connection_is_closed_after_the_idle_timeout()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, "--idle-timeout", "1s");
        await using var idle = await RawConnection.OpenAsync(node.ActivationPort);
        Assert.True(await idle.ClosedByHostAsync(TimeSpan.FromSeconds(30)));
    }
}
