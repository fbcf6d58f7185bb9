using KmsCluster.Node.Licensing;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Node.Admin;

/// <summary>The offline activation of a host key (the KMS model's telephone activation): the node writes a request
/// signed with its own key, the operator carries it to the licensing authority (`kms-authority answer`), and
/// installs the certificate the authority answered. The private key never leaves the node.</summary>
public static class HostCertificateApi
{
    public static void MapHostCertificateApi(this WebApplication app)
    {
        app.MapPost("/api/v1/host-keys/{keyId}/activation-request", (string keyId, bool? reactivation, HostLicence licence,
            HostCertificates certificates) =>
        {
            if (KeyOf(licence, keyId, out var error) is not { } check) return error!;
            if (check.Problem is HostKeyProblem.UnknownAuthority or HostKeyProblem.BadSignature or HostKeyProblem.Expired
                or HostKeyProblem.UnknownGroup or HostKeyProblem.NotHostable)
            {
                return AdminApi.Error(409, $"host key {keyId} cannot be activated here: {check.Reason}");
            }
            return Results.Text(certificates.Request(check.Key, reactivation ?? false).ToJson(), "application/json");
        });

        app.MapPut("/api/v1/host-keys/{keyId}/certificate", async (string keyId, HttpRequest request, HostLicence licence,
            HostCertificates certificates) =>
        {
            if (KeyOf(licence, keyId, out var error) is null) return error!;
            using var reader = new StreamReader(request.Body);
            var text = await reader.ReadToEndAsync(request.HttpContext.RequestAborted);
            HostCertificate certificate;
            try
            {
                certificate = HostCertificate.Parse(text, "the certificate");
            }
            catch (HostKeyFormatException e)
            {
                return AdminApi.Error(400, e.Message);
            }
            if (certificate.KeyId != keyId)
            {
                return AdminApi.Error(400, $"the certificate is for host key {certificate.KeyId}, not {keyId}");
            }
            if (certificates.Install(certificate) is { } problem)
            {
                return AdminApi.Error(400, $"certificate refused: {problem}");
            }
            licence.Certified(keyId, certificate);
            var check = licence.Keys.First(k => k.Key.KeyId == keyId);
            return Results.Json(new HostCertificateJson(keyId, certificate.HostId, certificate.IssuedAt, certificate.ExpiresAt,
                certificate.Authority, check.IsValid ? "active" : "refused", check.Reason), AdminJson.Http.HostCertificateJson);
        });
    }

    private static HostKeyCheck? KeyOf(HostLicence licence, string keyId, out IResult? error)
    {
        var check = licence.Keys.FirstOrDefault(k => k.Key.KeyId == keyId);
        error = check is null
            ? AdminApi.Error(404, $"no host key \"{keyId}\" on this node; it has: {string.Join(", ", licence.Keys.Select(k => k.Key.KeyId))}")
            : null;
        return check;
    }
}
