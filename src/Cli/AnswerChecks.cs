using System.CommandLine;
using KmsCluster.Client.Verification;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Cli;

/// <summary>The trusted authority keys of <c>kms activate</c>, <c>kms verify</c> and <c>kms load --verify</c>.</summary>
internal static class AnswerChecks
{
    public static Option<string[]> AuthorityKeyOption() => new("--authority-key")
    {
        Description = "public key (authority.pub) of a licensing authority whose host certificates you trust; repeat for several",
    };

    /// <summary>A verifier trusting <paramref name="files"/>; a usage error when there are none or one cannot be read.</summary>
    public static ActivationVerifier Verifier(string[]? files, string alternative)
    {
        if (files is not { Length: > 0 })
        {
            throw new UsageException($"--authority-key FILE is needed: the licensing authority key (authority.pub) whose host certificates you trust ({alternative})");
        }
        try
        {
            return new ActivationVerifier(files.Select(TrustedAuthority.Load).ToList());
        }
        catch (LicensingException e)
        {
            throw new UsageException($"--authority-key: {e.Message}");
        }
    }
}
