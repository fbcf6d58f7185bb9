using static KmsCluster.Actors.Serialization.SchemaValues;

namespace KmsCluster.Actors.Serialization.Protos;

/// <summary>The CMID and product Guid halves that each contact message of window.proto carries (same field names),
/// so one mapping serves the three; the generated properties implement it.</summary>
internal interface IContactIds
{
    ulong ClientMachineIdLow { get; set; }
    ulong ClientMachineIdHigh { get; set; }
    ulong ProductIdLow { get; set; }
    ulong ProductIdHigh { get; set; }
}

internal sealed partial class ContactRequest : IContactIds;

internal sealed partial class RecordedContact : IContactIds;

internal sealed partial class StoredContact : IContactIds;

internal static class ContactIds
{
    public static T WithIds<T>(this T proto, Guid clientMachineId, Guid productId) where T : IContactIds
    {
        (proto.ClientMachineIdLow, proto.ClientMachineIdHigh) = Split(clientMachineId);
        (proto.ProductIdLow, proto.ProductIdHigh) = Split(productId);
        return proto;
    }

    public static Guid ClientMachineId(this IContactIds proto) => Join(proto.ClientMachineIdLow, proto.ClientMachineIdHigh);

    public static Guid ProductId(this IContactIds proto) => Join(proto.ProductIdLow, proto.ProductIdHigh);
}
