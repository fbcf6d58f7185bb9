using KmsCluster.Authority.Activation;
using KmsCluster.Authority.Configuration;
using KmsCluster.Authority.Storage;

namespace KmsCluster.Authority.Commands;

/// <summary>
/// `kms-authority answer REQUEST.json --out CERTIFICATE.json`: the model's telephone activation. The host's
/// request comes as a file, and the certificate goes back as one; the checks, the store and the rules are the
/// service's own, so a host counts the same whichever way it asked.
/// </summary>
public static class AnswerCommand
{
    public static async Task<int> RunAsync(AnswerOptions options, TextWriter output, TextWriter error)
    {
        using var authority = CommandSetup.LoadAuthority(options.Store.KeyDirectory);
        string json;
        try
        {
            json = await File.ReadAllTextAsync(options.RequestFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"{options.RequestFile}: cannot read the request: {e.Message}", e);
        }
        await using var store = await ActivationStores.OpenAsync(options.Store, CancellationToken.None);
        var activations = new HostActivations(authority, store, TimeProvider.System);
        ActivationAnswer answer;
        try
        {
            answer = await activations.AnswerAsync(json, options.RequestFile, CancellationToken.None);
        }
        catch (StoreUnavailableException e)
        {
            throw new StartupException(e.Message, e);
        }
        switch (answer)
        {
            case ActivationGranted granted:
                WriteAtomically(options.CertificateFile, granted.Certificate.ToJson());
                await output.WriteLineAsync(
                    $"{granted.Outcome}: host {granted.Certificate.HostId:D} with key {granted.Certificate.KeyId}, " +
                    $"certificate valid until {Protocol.Licensing.HostKey.FormatTime(granted.Certificate.ExpiresAt)} written to {options.CertificateFile}");
                return ExitCodes.Ok;
            case ActivationRefused refused:
                await error.WriteLineAsync($"kms-authority: refused ({refused.Code}): {refused.Message}");
                return ExitCodes.Refused;
            default:
                throw new InvalidOperationException($"unknown answer {answer}");
        }
    }

    private static void WriteAtomically(string path, string text)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            File.WriteAllText(temporary, text);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The activation is recorded; asking again with the same request file answers it again, uncounted.
            throw new StartupException($"--out: cannot write {path}: {e.Message} (the activation is recorded: answer the same request again to get its certificate)", e);
        }
    }
}
