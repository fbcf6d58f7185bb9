using System.Buffers;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Tests.Support;

/// <summary>A parsed frame copied out of the reader's buffer, comparable by value.</summary>
public sealed record ParsedFrame(byte Version, MessageType Type, uint RequestId, string BodyHex)
{
    public byte[] Body => Convert.FromHexString(BodyHex);
}

/// <summary>Builds frames with the real writer and parses streams with the real reader.</summary>
public static class TestWire
{
    public static readonly Guid Cmid = Guid.Parse("6f1c1b52-6d3c-4b5b-9d55-0f1a5e1b8f01");
    public static readonly Guid WindowsApp = Guid.Parse("26256b66-aecf-5843-8c19-11e0c33ded51");
    public static readonly Guid Windows11Enterprise = Guid.Parse("91dd771e-a4d0-554c-8b1b-759f25ef7df8");
    public static readonly Guid HostId = Guid.Parse("0c8a3d5e-2b7f-4e61-9a04-5d3b1f6e7a28");
    public static readonly DateTimeOffset ClientTime = DateTimeOffset.Parse("2025-06-01T12:00:00.123Z");
    public static readonly DateTimeOffset HostTime = DateTimeOffset.Parse("2025-06-01T12:00:00.456Z");

    public static ActivationRequest Request(string workstation = "Büro-PC-07") =>
        new(Cmid, WindowsApp, Windows11Enterprise, 25, LicenseState.InitialGrace, 43200, true, workstation, ClientTime);

    public static ActivationResponse Response(string hostName = "kms-a", bool activated = true) =>
        new(Cmid, HostId, hostName, HostTime, activated ? (ushort)25 : (ushort)3, 25, activated,
            activated ? HostTime.AddDays(180) : null, 120, 10080);

    public static ErrorResponse Error(string message = "too many requests waiting on this node; retry later") =>
        new(ErrorCode.ServerBusy, 1000, message);

    public static byte[] Frame(uint requestId, in ActivationRequest request)
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.Write(output, requestId, request);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Frame(uint requestId, in ActivationResponse response)
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.Write(output, requestId, response);
        return output.WrittenSpan.ToArray();
    }

    public static byte[] Frame(uint requestId, in ErrorResponse error)
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.Write(output, requestId, error);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>A frame with an arbitrary envelope, for frames the writer would never produce.</summary>
    public static byte[] RawFrame(byte version, MessageType type, uint requestId, byte[] body)
    {
        var frame = new byte[ProtocolConstants.HeaderSize + body.Length];
        FrameWriter.WriteHeader(frame, version, type, requestId, body.Length);
        body.CopyTo(frame, ProtocolConstants.HeaderSize);
        return frame;
    }

    public static byte[] Body(byte[] frame) => frame[ProtocolConstants.HeaderSize..];

    public static byte[] RequestBody(in ActivationRequest request) => Body(Frame(1, request));

    public static byte[] ResponseBody(in ActivationResponse response) => Body(Frame(1, response));

    public static byte[] ErrorBody(in ErrorResponse error) => Body(Frame(1, error));

    /// <summary>Parses every complete frame, checking the reader's position contract on the way.</summary>
    public static (List<ParsedFrame> Frames, long Remaining) ParseAll(ReadOnlySequence<byte> input)
    {
        var frames = new List<ParsedFrame>();
        while (true)
        {
            if (!FrameReader.TryParse(input, out var consumed, out var examined, out var frame))
            {
                Assert.Equal(0, input.GetOffset(consumed) - input.GetOffset(input.Start));
                Assert.Equal(input.Length, input.GetOffset(examined) - input.GetOffset(input.Start));
                return (frames, input.Length);
            }
            var frameLength = ProtocolConstants.HeaderSize + frame.Body.Length;
            Assert.Equal(frameLength, input.GetOffset(consumed) - input.GetOffset(input.Start));
            Assert.Equal(input.GetOffset(consumed), input.GetOffset(examined));
            frames.Add(new ParsedFrame(frame.Version, frame.Type, frame.RequestId, Convert.ToHexString(frame.Body.ToArray())));
            input = input.Slice(consumed);
        }
    }

    public static List<ParsedFrame> ParseAll(byte[] bytes)
    {
        var (frames, remaining) = ParseAll(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(0, remaining);
        return frames;
    }

    public static ParsedFrame ParseOne(byte[] bytes) => Assert.Single(ParseAll(bytes));
}

/// <summary>Multi-segment <see cref="ReadOnlySequence{T}"/>s, as a PipeReader hands them out.</summary>
public static class Segments
{
    /// <summary>Cuts <paramref name="data"/> at the given offsets (sorted, may repeat, may be 0 or the end,
    /// which makes empty segments). Every segment gets its own array.</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts)
    {
        var parts = new List<byte[]>();
        var start = 0;
        foreach (var cut in cuts.Order())
        {
            parts.Add(data[start..cut]);
            start = cut;
        }
        parts.Add(data[start..]);
        return Of(parts);
    }

    public static ReadOnlySequence<byte> Of(IReadOnlyList<byte[]> parts)
    {
        if (parts.Count == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(parts[0], null);
        var last = first;
        for (var i = 1; i < parts.Count; i++)
        {
            last = new Segment(parts[i], last);
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, Segment? previous)
        {
            Memory = data;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }
}
