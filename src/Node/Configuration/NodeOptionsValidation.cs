using Microsoft.Extensions.Options;

namespace KmsCluster.Node.Configuration;

/// <summary>The rules that tie settings together (each value on its own was checked when it was parsed). The
/// messages are the one line kms-node prints before it exits with code 2.</summary>
public sealed class NodeOptionsValidation : IValidateOptions<NodeOptions>
{
    public ValidateOptionsResult Validate(string? name, NodeOptions options)
    {
        var clash = options.Listen.Append(options.Admin).Where(e => e.Port != 0).GroupBy(e => e).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
        {
            return ValidateOptionsResult.Fail($"{clash.Key} is configured twice (activation and admin endpoints must differ)");
        }
        if (options.Seeds.Count > 0 && options.Database is null)
        {
            return ValidateOptionsResult.Fail(
                $"{NodeFlags.Seed.Flag}: joining a cluster needs {NodeFlags.Db.Flag}: the nodes of a cluster share one PostgreSQL journal, and a node's SQLite file must never have a second writer");
        }
        if (options.Discovery is { } discovery)
        {
            if (options.Seeds.Count > 0)
            {
                return ValidateOptionsResult.Fail(
                    $"{NodeFlags.Seed.Flag} and {DiscoveryFlags.Discovery.Flag} {discovery.Method.ToString().ToLowerInvariant()} exclude each other: the bootstrap finds the members itself (Akka.Management skips it when seed nodes are set)");
            }
            if (options.Database is null)
            {
                return ValidateOptionsResult.Fail(
                    $"{DiscoveryFlags.Discovery.Flag}: forming a cluster needs {NodeFlags.Db.Flag}: the nodes of a cluster share one PostgreSQL journal");
            }
            if (options.Admin.Port == discovery.ManagementPort)
            {
                return ValidateOptionsResult.Fail(
                    $"{DiscoveryFlags.ManagementPort.Flag}: {discovery.ManagementPort} is the admin port too; the management endpoint needs its own");
            }
        }
        if (options.SplitBrain == SplitBrainStrategy.LeaseMajority && options.Database is null)
        {
            return ValidateOptionsResult.Fail(
                $"{NodeFlags.SplitBrain.Flag}: lease-majority keeps its lease in the cluster's database; it needs {NodeFlags.Db.Flag}");
        }
        return ValidateOptionsResult.Success;
    }
}
