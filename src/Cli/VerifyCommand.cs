using System.CommandLine;
using KmsCluster.Client.Verification;

namespace KmsCluster.Cli;

/// <summary><c>kms verify FILE</c>: checks an answer saved by <c>kms activate --save</c>, offline; exit 0 valid, 2 not
/// (with the reason), 4 usage.</summary>
internal static class VerifyCommand
{
    public static Command Create(CliOutput output)
    {
        var file = new Argument<string>("FILE") { Description = "a signed answer saved by `kms activate --save`" };
        var authorityKeys = AnswerChecks.AuthorityKeyOption();
        var command = new Command("verify", "check a saved signed answer offline against the authority keys you trust") { file, authorityKeys };
        command.SetAction(result =>
        {
            try
            {
                var verifier = AnswerChecks.Verifier(result.GetValue(authorityKeys), "kms verify checks the answer against it");
                var path = result.GetValue(file)!;
                SignedAnswer answer;
                try
                {
                    answer = SavedAnswer.Parse(File.ReadAllText(path), path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
                {
                    return output.Fail(ExitCodes.Refused, e.Message);
                }
                var verdict = verifier.Verify(answer);
                if (!verdict.IsValid)
                {
                    return output.Fail(ExitCodes.Refused, $"{path}: not valid: {verdict.Reason}");
                }
                var r = answer.Content.Response;
                output.Out.WriteLine($"valid: {(r.Activated ? "activated" : "not activated")} by {r.HostName} (host {r.HostId}, key {answer.Content.KeyId}) at {r.HostTime:yyyy-MM-ddTHH:mm:ssZ}: count {r.CurrentCount}/{r.Threshold}" +
                    (r.ValidUntil is { } until ? $", valid until {until:yyyy-MM-ddTHH:mm:ssZ}" : ""));
                return ExitCodes.Activated;
            }
            catch (UsageException e)
            {
                return output.Fail(ExitCodes.Usage, e.Message);
            }
        });
        return command;
    }
}
