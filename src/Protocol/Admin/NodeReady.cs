using System.Text.Json;
using System.Text.Json.Serialization;

namespace KmsCluster.Protocol.Admin;

/// <summary>
/// What kms-node writes to its --ready-file once it serves its endpoints (the moment it logs its ready line):
/// everything a script or test harness needs to talk to it, with ports as bound (port 0 resolved).
/// </summary>
/// <param name="HostName">The host name sent in responses (--name).</param>
/// <param name="HostId">The node's id, kept in its data directory.</param>
/// <param name="ActivationEndpoints">HOST:PORT of every activation endpoint, in the order of --listen.</param>
/// <param name="AdminEndpoint">HOST:PORT of the admin HTTP API.</param>
/// <param name="ClusterAddress">akka.tcp://SYSTEM@HOST:PORT of this cluster member.</param>
/// <param name="Journal">sqlite or postgresql.</param>
/// <param name="JournalLocation">The SQLite file, or host:port/database (no credentials).</param>
/// <param name="ProcessId">The node's process id.</param>
public sealed record NodeReady(
    string HostName,
    Guid HostId,
    IReadOnlyList<string> ActivationEndpoints,
    string AdminEndpoint,
    string ClusterAddress,
    string Journal,
    string JournalLocation,
    int ProcessId)
{
    public string ToJson() => JsonSerializer.Serialize(this, NodeReadyJsonContext.Default.NodeReady);

    /// <exception cref="JsonException">not a ready document.</exception>
    public static NodeReady Parse(string json) =>
        JsonSerializer.Deserialize(json, NodeReadyJsonContext.Default.NodeReady)
        ?? throw new JsonException("the ready document is null");
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(NodeReady))]
public sealed partial class NodeReadyJsonContext : JsonSerializerContext;
