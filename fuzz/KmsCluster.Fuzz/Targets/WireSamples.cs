using System.Buffers;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Fuzz.Targets;

/// <summary>Valid messages for the wire targets' seeds, written by the protocol's own writer.</summary>
internal static class WireSamples
{
    private static readonly Guid Cmid = Guid.Parse("6f1c1b52-6d3c-4b5b-9d55-0f1a5e1b8f01");
    private static readonly Guid WindowsApp = Guid.Parse("26256b66-aecf-5843-8c19-11e0c33ded51");
    private static readonly Guid Windows11Enterprise = Guid.Parse("91dd771e-a4d0-554c-8b1b-759f25ef7df8");
    private static readonly DateTimeOffset Time = DateTimeOffset.Parse("2025-06-01T12:00:00.123Z", System.Globalization.CultureInfo.InvariantCulture);

    public static readonly UInt128 Nonce = new(0x0123456789abcdef, 0xfedcba9876543210);

    public static ActivationRequest Request =>
        new(Cmid, WindowsApp, Windows11Enterprise, 25, LicenseState.InitialGrace, 43200, true, "Büro-PC-07", Time);

    public static ActivationResponse Response =>
        new(Cmid, Guid.Parse("0c8a3d5e-2b7f-4e61-9a04-5d3b1f6e7a28"), "kms-a", Time, 25, 25, true, Time.AddDays(180), 120, 10080);

    public static ErrorResponse Error => new(ErrorCode.ServerBusy, 1000, "too many requests waiting on this node; retry later");

    public static byte[] Frame<T>(uint requestId, in T body) where T : IFrameBody
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.Write(output, requestId, body);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Body<T>(in T body) where T : IFrameBody => Frame(1, body)[ProtocolConstants.HeaderSize..];
}
