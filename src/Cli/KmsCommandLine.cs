using System.CommandLine;
using KmsCluster.Cli.Load;

namespace KmsCluster.Cli;

/// <summary>The <c>kms</c> command tree; Program.cs runs it on the console, tests on their own writers.</summary>
public static class KmsCommandLine
{
    public const string Description =
        "kms: the KmsCluster client. Exit codes: 0 activated/ok, 1 not activated yet, 2 refused by the host, " +
        "3 host unreachable or no answer in time, 4 usage error, 5 kms status could not fetch every part.";

    /// <summary>Runs on the process console.</summary>
    public static Task<int> RunAsync(string[] args) =>
        RunAsync(args, new CliOutput(Console.Out, Console.Error, outputIsTerminal: !Console.IsOutputRedirected), handleTermination: true);

    /// <summary>Runs with output and errors captured; for tests and embedding.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error) =>
        RunAsync(args, new CliOutput(output, error, outputIsTerminal: false), handleTermination: false);

    private static async Task<int> RunAsync(string[] args, CliOutput output, bool handleTermination)
    {
        var root = new RootCommand(Description)
        {
            ProductsCommand.Create(output),
            ActivateCommand.Create(output),
            VerifyCommand.Create(output),
            WindowCommand.Create(output),
            ClientsCommand.Create(output),
            ClusterCommand.Create(output),
            StatusCommand.Create(output),
            DashboardCommand.Create(output),
            LoadCommand.Create(output),
            DiscoverCommand.Create(output),
            PlanCommand.Create(output),
            KeysCommand.Create(output),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            if (parsed.CommandResult.Command.Name == "load")
            {
                output.Error.WriteLine($"{LoadCommand.Prefix}{parsed.Errors[0].Message} (see kms load --help)");
                return ExitCodes.Usage;
            }
            return output.Fail(ExitCodes.Usage, $"{parsed.Errors[0].Message} (see kms --help)");
        }
        var invocation = new InvocationConfiguration { Output = output.Out, Error = output.Error };
        if (!handleTermination)
        {
            // Ctrl+C belongs to the host process, not to a run inside it.
            invocation.ProcessTerminationTimeout = null;
        }
        return await parsed.InvokeAsync(invocation);
    }
}
