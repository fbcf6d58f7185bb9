using KmsCluster.Node.Activation;
using KmsCluster.Node.Hosting;
using KmsCluster.Node.Persistence;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Node;

/// <summary>The moment a node serves its endpoints: its ready line in the log and, with --ready-file, the same
/// facts as a JSON document (<see cref="NodeReady"/>) for scripts and test harnesses.</summary>
public static partial class NodeReadyReport
{
    public static NodeReady Collect(IServiceProvider services)
    {
        var host = services.GetRequiredService<HostIdentity>();
        var store = services.GetRequiredService<JournalStore>();
        var system = services.GetRequiredService<Akka.Actor.ActorSystem>();
        return new NodeReady(
            host.Name,
            host.Id,
            services.GetRequiredService<ActivationEndpoints>().Describe(),
            string.Join(",", services.GetRequiredService<AdminEndpoints>().Describe()),
            Akka.Cluster.Cluster.Get(system).SelfAddress.ToString(),
            store.Kind,
            store.Location,
            Environment.ProcessId);
    }

    public static void Log(ILogger log, NodeReady ready) =>
        LogReady(log, ready.HostName, ready.HostId, string.Join(",", ready.ActivationEndpoints), ready.AdminEndpoint,
            ready.JournalLocation, ready.ClusterAddress, ready.Journal);

    /// <summary>Writes the document in one step (a temporary file renamed over it): a reader sees all of it or nothing.</summary>
    public static void Write(string path, NodeReady ready)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, ready.ToJson());
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>A ready file left by an earlier run must not pass for this one's.</summary>
    public static void Remove(string? path)
    {
        if (path is not null)
        {
            File.Delete(path);
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "KmsCluster node {HostName} ({HostId}) ready: activation={Activation} admin={Admin} data={Journal} cluster={ClusterAddress} journal={JournalKind}")]
    private static partial void LogReady(ILogger log, string hostName, Guid hostId, string activation, string admin,
        string journal, string clusterAddress, string journalKind);
}
