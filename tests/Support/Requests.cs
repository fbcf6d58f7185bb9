using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Testing;

/// <summary>Activation requests as a client of a given edition sends them.</summary>
public static class Requests
{
    public static Product Product(string slug) =>
        ProductCatalog.Default.FindProduct(slug) ?? throw new ArgumentException($"no product {slug}");

    public static ActivationRequest For(string productSlug, Guid? cmid = null, string? workstation = null,
        DateTimeOffset? clientTime = null)
    {
        var product = Product(productSlug);
        var machine = cmid ?? Guid.NewGuid();
        return new ActivationRequest(machine, product.Application.Id, product.Id, (ushort)product.Threshold,
            LicenseState.InitialGrace, 43200, IsVirtualMachine: false,
            workstation ?? "ws-" + machine.ToString("N")[..8], clientTime ?? DateTimeOffset.UtcNow);
    }
}
