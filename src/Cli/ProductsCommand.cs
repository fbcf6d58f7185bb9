using System.CommandLine;
using KmsCluster.Protocol.Catalog;
using Spectre.Console;

namespace KmsCluster.Cli;

/// <summary><c>kms products [--json]</c>: the product catalogue.</summary>
internal static class ProductsCommand
{
    public static Command Create(CliOutput output)
    {
        var json = new Option<bool>("--json") { Description = "print JSON" };
        var command = new Command("products", "list the product catalogue: id, name, application, threshold") { json };
        command.SetAction(result =>
        {
            var catalog = ProductCatalog.Default;
            if (result.GetValue(json))
            {
                output.WriteJson(catalog.Products.Select(p => new
                {
                    id = p.Id,
                    slug = p.Slug,
                    name = p.Name,
                    application = p.Application.Slug,
                    family = p.Family,
                    kind = ProductCatalog.KindName(p.Kind),
                    threshold = p.Threshold,
                }));
                return ExitCodes.Activated;
            }
            var table = new Table().Border(TableBorder.Simple)
                .AddColumns("Slug", "Name", "Application", "Kind", "Threshold", "Id");
            foreach (var p in catalog.Products)
            {
                table.AddRow(Markup.Escape(p.Slug), Markup.Escape(p.Name), p.Application.Slug,
                    ProductCatalog.KindName(p.Kind), p.Threshold.ToString(), p.Id.ToString());
            }
            output.Ansi.Write(table);
            return ExitCodes.Activated;
        });
        return command;
    }
}
