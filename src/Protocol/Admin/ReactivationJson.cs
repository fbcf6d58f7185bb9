namespace KmsCluster.Protocol.Admin;

/// <summary><c>POST /api/v1/host-keys/{keyId}/reactivate</c>: 200 when re-activated, 409 when refused.</summary>
/// <param name="Outcome">activated, already-active, reactivated, host-limit-reached, reactivation-limit-reached.</param>
/// <param name="Reactivations">This host's re-activations under the key so far.</param>
/// <param name="Hosts">Hosts activated under the key.</param>
public sealed record ReactivationJson(string KeyId, string Outcome, int Reactivations, int MaxReactivations, int Hosts, int MaxHosts);
