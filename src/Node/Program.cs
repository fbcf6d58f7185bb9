using KmsCluster.Node;
using KmsCluster.Node.Backup;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Dns;

if (BackupCommands.Handles(args))
{
    return await BackupCommands.RunAsync(args);
}

var (root, flagOptions) = NodeCommandLine.Create();
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    await Console.Error.WriteLineAsync($"kms-node: {parsed.Errors[0].Message} (see kms-node --help)");
    return 2;
}
if (parsed.Action is not null)
{
    // --help or --version
    return await parsed.InvokeAsync();
}

NodeOptions options;
DnsPublishing dns;
try
{
    var settings = NodeConfiguration.Load(Path.Combine(AppContext.BaseDirectory, "appsettings.json"),
        NodeConfiguration.KmsEnvironment(), parsed, flagOptions);
    options = NodeOptionsReader.Read(settings);
    dns = DnsPublishing.Read(settings);
}
catch (NodeOptionsException e)
{
    await Console.Error.WriteLineAsync($"kms-node: {e.Message}");
    return 2;
}

return await NodeHost.RunAsync(options, dns);
