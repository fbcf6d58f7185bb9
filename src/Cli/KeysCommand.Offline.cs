using System.CommandLine;
using System.Net;
using System.Text;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Licensing;
using static KmsCluster.Cli.AdminApi;

namespace KmsCluster.Cli;

/// <summary>The offline activation of a node (the KMS model's telephone activation): <c>kms keys request</c> gets the
/// node's signed request for the licensing authority, <c>kms keys install</c> gives the node the certificate the
/// authority answered (<c>kms-authority answer</c>). The node's private key never leaves the node.</summary>
internal static partial class KeysCommand
{
    private static Command Request(CliOutput output)
    {
        var keyId = new Argument<string>("KEY-ID") { Description = "the host key to activate the node under (kms keys status lists them)" };
        var file = new Option<string>("--out") { Description = "where to write the request for the licensing authority", Required = true };
        var reactivation = new Option<bool>("--reactivation") { Description = $"ask as a re-activation (counts against the key's {HostKey.MaxReactivations} per host)" };
        var admin = new AdminOptions();
        var command = new Command("request", "write a node's signed activation request for the licensing authority (offline activation)")
        {
            keyId, file, reactivation,
        };
        foreach (var option in admin.All) command.Options.Add(option);
        command.SetAction(async (result, cancellationToken) => await RunAsync(output, async () =>
        {
            var address = admin.Resolve(result);
            var id = result.GetValue(keyId)!;
            var path = $"/api/v1/host-keys/{Uri.EscapeDataString(id)}/activation-request?reactivation={(result.GetValue(reactivation) ? "true" : "false")}";
            var answer = await SendAsync(HttpMethod.Post, address, path, cancellationToken);
            if (!answer.IsSuccess)
            {
                return output.Fail(answer.Status == HttpStatusCode.NotFound ? ExitCodes.Usage : ExitCodes.Refused, Failure(address, answer));
            }
            var target = result.GetValue(file)!;
            try
            {
                await File.WriteAllTextAsync(target, answer.Body, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return output.Fail(ExitCodes.Usage, $"--out: cannot write {target}: {e.Message}");
            }
            output.Out.WriteLine($"wrote {target}: take it to the licensing authority (kms-authority answer {Path.GetFileName(target)} --out CERT.json), then run kms keys install CERT.json");
            return ExitCodes.Activated;
        }));
        return command;
    }

    private static Command Install(CliOutput output)
    {
        var file = new Argument<string>("CERTIFICATE") { Description = "the certificate file the licensing authority answered" };
        var admin = new AdminOptions();
        var command = new Command("install", "give a node the certificate the licensing authority answered its request with") { file };
        foreach (var option in admin.All) command.Options.Add(option);
        command.SetAction(async (result, cancellationToken) => await RunAsync(output, async () =>
        {
            var address = admin.Resolve(result);
            HostCertificate certificate;
            try
            {
                certificate = HostCertificate.Load(result.GetValue(file)!);
            }
            catch (HostKeyFormatException e)
            {
                return output.Fail(ExitCodes.Usage, e.Message);
            }
            using var body = new StringContent(certificate.ToJson(), Encoding.UTF8, "application/json");
            var answer = await SendAsync(HttpMethod.Put, address, $"/api/v1/host-keys/{Uri.EscapeDataString(certificate.KeyId)}/certificate",
                cancellationToken, body);
            if (!answer.IsSuccess)
            {
                return output.Fail(answer.Status == HttpStatusCode.NotFound ? ExitCodes.Usage : ExitCodes.Refused, Failure(address, answer));
            }
            var installed = answer.Read(AdminJson.Http.HostCertificateJson);
            output.Out.WriteLine($"host key {Shown(installed.KeyId)}: certificate installed, valid until {Time(installed.ExpiresAt)}; the key is {Shown(installed.Status)} ({Shown(installed.Reason)})");
            return ExitCodes.Activated;
        }));
        return command;
    }
}
