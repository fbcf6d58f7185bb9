using System.CommandLine;

namespace KmsCluster.Node.Backup;

/// <summary><c>kms-node backup</c> and <c>kms-node restore</c>: subcommands beside the node's own flags, run without
/// starting a node. One line on stderr and an exit code of <see cref="BackupExitCodes"/> when they stop.</summary>
internal static class BackupCommands
{
    public static void AddTo(RootCommand root)
    {
        root.Subcommands.Add(BackupCommand());
        root.Subcommands.Add(RestoreCommand());
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
