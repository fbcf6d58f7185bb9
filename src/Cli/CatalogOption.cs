using System.CommandLine;
using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Cli;

/// <summary><c>--catalog FILE</c>: plan or issue against an operator's catalogue instead of the built-in one.</summary>
internal static class CatalogOption
{
    public static Option<string?> Create() =>
        new("--catalog") { Description = "catalogue file to use instead of the built-in one (as kms-node --catalog)", HelpName = "FILE" };

    /// <exception cref="UsageException">the file cannot be read or is not a valid catalogue.</exception>
    public static ProductCatalog Load(string? path)
    {
        if (path is null)
        {
            return ProductCatalog.Default;
        }
        try
        {
            return ProductCatalog.Load(path);
        }
        catch (CatalogException e)
        {
            throw new UsageException($"--catalog: {e.Message}");
        }
    }
}
