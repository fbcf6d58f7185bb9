namespace KmsCluster.Protocol.Admin;

/// <summary><c>GET /api/v1/cluster</c>: the cluster as this node sees it.</summary>
/// <param name="Journal">sqlite or postgresql.</param>
/// <param name="SplitBrain">The split-brain strategy's name (lease-majority, keep-majority, keep-oldest).</param>
public sealed record ClusterJson(
    string Self,
    string SelfStatus,
    string? Leader,
    string? Oldest,
    string Journal,
    string SplitBrain,
    IReadOnlyList<MemberJson> Members,
    IReadOnlyList<WindowOwnerJson> Windows);

/// <param name="Reachable">As seen from the node that answered.</param>
public sealed record MemberJson(string Address, string Status, IReadOnlyList<string> Roles, bool Reachable, bool Oldest, bool Self);

/// <param name="Owner">The node the window answers from; null while it moves or does not answer.</param>
public sealed record WindowOwnerJson(string Application, string? Owner);
