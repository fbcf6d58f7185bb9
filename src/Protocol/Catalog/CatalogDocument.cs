using System.Text.Json.Serialization;

namespace KmsCluster.Protocol.Catalog;

/// <summary>The JSON shape of a catalogue file (see Catalog/default-catalog.json).</summary>
internal sealed class CatalogDocument
{
    public int Version { get; set; }
    public string? Comment { get; set; }
    public List<ApplicationEntry>? Applications { get; set; }
    public List<ProductEntry>? Products { get; set; }
    public List<HostOsEntry>? HostOperatingSystems { get; set; }
    public List<KeyGroupEntry>? KeyGroups { get; set; }
    public List<MinimumUpdateEntry>? MinimumUpdates { get; set; }

    internal sealed class ApplicationEntry
    {
        public string? Id { get; set; }
        public string? Slug { get; set; }
        public string? Name { get; set; }
    }

    internal sealed class ProductEntry
    {
        public string? Id { get; set; }
        public string? Slug { get; set; }
        public string? Name { get; set; }
        public string? Application { get; set; }
        public string? Family { get; set; }
        public string? Kind { get; set; }
        public int? Threshold { get; set; }
    }

    internal sealed class HostOsEntry
    {
        public string? Name { get; set; }
        public string? Kind { get; set; }
    }

    internal sealed class KeyGroupEntry
    {
        public string? Name { get; set; }
        public string? Comment { get; set; }
        public List<string>? HostableOn { get; set; }
        public ActivatesEntry? Activates { get; set; }
    }

    internal sealed class ActivatesEntry
    {
        public List<string>? Families { get; set; }
        public List<string>? Products { get; set; }
    }

    internal sealed class MinimumUpdateEntry
    {
        public string? HostOs { get; set; }
        public List<string>? Clients { get; set; }
        public string? Update { get; set; }
        public string? Released { get; set; }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(CatalogDocument))]
internal sealed partial class CatalogJsonContext : JsonSerializerContext;
