using System.Buffers.Binary;
using System.Runtime.Serialization;
using KmsCluster.Domain;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Actors.Serialization;

/// <summary>The schema encodings of values the domain holds as .NET types (see the header of window.proto).</summary>
internal static class SchemaValues
{
    /// <summary>A Guid's 16 bytes (Guid.TryWriteBytes order) as two little-endian halves: no allocation either way.</summary>
    public static (ulong Low, ulong High) Split(Guid value)
    {
        Span<byte> bytes = stackalloc byte[16];
        value.TryWriteBytes(bytes);
        return (BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]));
    }

    public static Guid Join(ulong low, ulong high)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, low);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], high);
        return new Guid(bytes);
    }

    public static DateTimeOffset Time(long utcTicks) =>
        utcTicks >= DateTimeOffset.MinValue.UtcTicks && utcTicks <= DateTimeOffset.MaxValue.UtcTicks
            ? new DateTimeOffset(utcTicks, TimeSpan.Zero)
            : throw new SerializationException($"time ticks {utcTicks} out of range");

    /// <summary>Proto3 keeps unknown enum numbers: anything the domain does not define is refused here.</summary>
    public static LicenseState ToLicenseState(int value) =>
        value >= 0 && value < LicenseStates.Count
            ? (LicenseState)value
            : throw new SerializationException($"licence state {value} is not defined");

    public static HostActivationOutcome ToOutcome(int value) =>
        value is >= 0 and <= byte.MaxValue && Enum.IsDefined((HostActivationOutcome)value)
            ? (HostActivationOutcome)value
            : throw new SerializationException($"host activation outcome {value} is not defined");
}
