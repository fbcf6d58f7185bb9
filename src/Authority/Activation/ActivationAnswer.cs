using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Authority.Activation;

/// <summary>What the authority answers to one host activation request (HTTP and offline alike).</summary>
public abstract record ActivationAnswer;

/// <summary>The host may serve the key: <paramref name="Outcome"/> is <c>activated</c>, <c>already-active</c> or <c>reactivated</c>.</summary>
public sealed record ActivationGranted(string Outcome, HostCertificate Certificate) : ActivationAnswer;

/// <summary>Refused. <paramref name="Status"/> is the HTTP status: 400 for <c>invalid-request</c>, 409 for the limits.</summary>
public sealed record ActivationRefused(int Status, string Code, string Message) : ActivationAnswer
{
    public const string InvalidRequest = "invalid-request";

    public static ActivationRefused Invalid(string message) => new(400, InvalidRequest, message);
}
