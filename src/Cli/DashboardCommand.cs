using System.CommandLine;

namespace KmsCluster.Cli;

/// <summary><c>kms dashboard [--admin HOST:PORT] [--data DIR | --token T]</c>: prints the address of the node's web
/// dashboard with the admin token in its fragment (browsers never send a fragment to the server; the page keeps the
/// token for its tab and removes it from the address bar). Asks the node nothing.</summary>
internal static class DashboardCommand
{
    public static Command Create(CliOutput output)
    {
        var admin = new AdminOptions();
        var command = new Command("dashboard", "print the address of the node's web dashboard, with its admin token");
        foreach (var option in admin.All) command.Options.Add(option);
        command.SetAction(result =>
        {
            try
            {
                var target = admin.Resolve(result);
                output.Out.WriteLine($"http://{target.Address}/dashboard#token={Uri.EscapeDataString(target.Token)}");
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
