using System.CommandLine;
using KmsCluster.Client.Cli;

var root = new RootCommand("kms: the KmsCluster client. Exit codes: 0 activated/ok, 1 not activated yet, 2 refused by the host, 3 host unreachable, 4 usage error.")
{
    ProductsCommand.Create(),
    ActivateCommand.Create(),
    WindowCommand.Create(),
};
// Redirected output has no terminal width; do not wrap tables at 80 columns.
if (Console.IsOutputRedirected)
{
    Spectre.Console.AnsiConsole.Profile.Width = 240;
}
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    return CliOutput.Fail(ExitCodes.Usage, $"{parsed.Errors[0].Message} (see kms --help)");
}
return await parsed.InvokeAsync();
