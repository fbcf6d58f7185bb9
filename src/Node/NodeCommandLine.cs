using System.CommandLine;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Node;

/// <summary>The kms-node command line: one option per <see cref="NodeFlag"/>.</summary>
internal static class NodeCommandLine
{
    public static (RootCommand Root, IReadOnlyDictionary<NodeFlag, Option> Options) Create()
    {
        var root = new RootCommand(
            "kms-node: a KmsCluster activation host. Every flag can also be set in appsettings.json (section \"Kms\") " +
            "or as a KMS_* environment variable (e.g. KMS_ACTIVATION_INTERVAL=2h, KMS_LISTEN=127.0.0.1:1688,[::1]:1688). " +
            "Backups: kms-node backup --data DIR --out FILE, kms-node restore --from FILE --data NEWDIR (see kms-node backup --help).");
        var options = new Dictionary<NodeFlag, Option>();
        foreach (var flag in NodeFlags.All)
        {
            Option option = flag.Switch ? new Option<bool>(flag.Flag)
                : flag.Repeatable
                ? new Option<string[]>(flag.Flag) { Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false }
                : new Option<string>(flag.Flag);
            option.Description = $"{flag.Help} [default: {(flag.Default.Length == 0 ? "see text" : flag.Default)}; env {flag.EnvironmentVariable}]";
            if (flag.ValueName.Length > 0) option.HelpName = flag.ValueName;
            root.Options.Add(option);
            options[flag] = option;
        }
        return (root, options);
    }
}
