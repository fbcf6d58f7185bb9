using System.CommandLine;

namespace KmsCluster.Node.Backup;

/// <summary><c>kms-node backup</c> and <c>kms-node restore</c>: commands of their own, taken before the node's flags
/// are parsed (Program.cs), run without starting a node. One line on stderr and an exit code of <see cref="BackupExitCodes"/> when they stop.</summary>
internal static class BackupCommands
{
    /// <summary>Whether <paramref name="args"/> name a subcommand of this class rather than the node's own flags.</summary>
    public static bool Handles(string[] args) => args is ["backup" or "restore", ..];

    /// <summary>Runs the subcommand; a usage error is one line and exit code 2, as for the node's flags.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("kms-node backup and restore") { BackupCommand(), RestoreCommand() };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            await Console.Error.WriteLineAsync($"kms-node {args[0]}: {parsed.Errors[0].Message} (see kms-node {args[0]} --help)");
            return BackupExitCodes.Refused;
        }
        return await parsed.InvokeAsync();
    }

    private static Command BackupCommand()
    {
        var data = new Option<string>("--data")
        {
            Description = "the node's data directory; the node may be running",
            DefaultValueFactory = _ => "./data",
            HelpName = "DIR",
        };
        var output = new Option<string>("--out") { Description = "the backup file to write (a tar; must not exist)", Required = true, HelpName = "FILE" };
        var identityOnly = new Option<bool>("--identity-only")
        {
            Description = "only the node's identity files, for a node with --db (its journal is in PostgreSQL: use pg_dump)",
        };
        var command = new Command("backup",
            "write an online backup of a node's data directory: the SQLite journal (kms.db) and client registry (registry.db), " +
            "each as of one commit and integrity-checked, and the files that make the node this host")
        {
            data, output, identityOnly,
        };
        command.SetAction(result => Run("backup", () =>
        {
            var manifest = NodeBackup.Take(result.GetValue(data)!, result.GetValue(output)!, result.GetValue(identityOnly));
            Console.Out.WriteLine($"kms-node backup: wrote {Path.GetFullPath(result.GetValue(output)!)}: host {manifest.HostId}, " +
                $"{Describe(manifest)}; integrity ok");
        }));
        return command;
    }

    private static Command RestoreCommand()
    {
        var from = new Option<string>("--from") { Description = "a backup written by kms-node backup", Required = true, HelpName = "FILE" };
        var data = new Option<string>("--data")
        {
            Description = "the new data directory to restore into: must not exist or be empty",
            Required = true,
            HelpName = "DIR",
        };
        var command = new Command("restore",
            "restore a backup of kms-node backup into a new data directory; start kms-node --data DIR on it afterwards")
        {
            from, data,
        };
        command.SetAction(result => Run("restore", () =>
        {
            var manifest = NodeRestore.Restore(result.GetValue(from)!, result.GetValue(data)!);
            Console.Out.WriteLine($"kms-node restore: restored host {manifest.HostId} as of {manifest.TakenAt:yyyy-MM-ddTHH:mm:ssZ} " +
                $"into {Path.GetFullPath(result.GetValue(data)!)}: {Describe(manifest)}" +
                (manifest.Journal ? "" : "; its journal is in PostgreSQL: restore that with pg_restore and start the node with --db"));
        }));
        return command;
    }

    private static string Describe(BackupManifest manifest)
    {
        var databases = manifest.Files.Where(f => f.Path.EndsWith(".db", StringComparison.Ordinal)).ToList();
        var others = manifest.Files.Count - databases.Count;
        var journal = databases.Count == 0 ? "no journal (identity only)" : string.Join(", ", databases.Select(d => $"{d.Path} ({d.Bytes} bytes)"));
        return $"{journal}, {others} identity file{(others == 1 ? "" : "s")}";
    }

    private static int Run(string name, Action action)
    {
        try
        {
            action();
            return BackupExitCodes.Done;
        }
        catch (BackupException e)
        {
            Console.Error.WriteLine($"kms-node {name}: {e.Message}");
            return e.ExitCode;
        }
    }
}
