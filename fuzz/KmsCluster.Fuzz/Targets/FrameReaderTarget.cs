using System.Buffers;
using System.Buffers.Binary;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Fuzz.Targets;

/// <summary>
/// The frame reader (<see cref="FrameReader.TryParse"/>) over a byte stream as the node's session reads it, frame
/// after frame, each body decoded as the session does. Input: byte 0 chooses how the stream is cut into buffer
/// segments (0-15: one segment; 16-255: segments of 1 + value % 16 bytes, as a socket may deliver them); the rest
/// is the stream. Contract: a broken envelope throws <see cref="FrameException"/> with malformed-request or
/// frame-too-large; an incomplete frame returns false with consumed at the start and examined at the end; a
/// complete one returns the header's fields and positions just past its body.
/// </summary>
internal sealed class FrameReaderTarget : IFuzzTarget
{
    public string Name => "frame-reader";

    public void Run(ReadOnlySpan<byte> input)
    {
        // An empty input is an empty stream, never a skipped run: SharpFuzz may read the first input before afl-fuzz
        // has written it, and a run that reaches no instrumented code aborts afl-fuzz ("No instrumentation detected").
        var cut = input.IsEmpty ? 0 : input[0];
        var stream = input.IsEmpty ? [] : input[1..].ToArray();
        var buffer = cut < 16 ? new ReadOnlySequence<byte>(stream) : Segments.Cut(stream, 1 + cut % 16);
        var offset = 0;
        var scratch = new byte[ProtocolConstants.MaxBodySize];
        try
        {
            while (FrameReader.TryParse(buffer, out var consumed, out var examined, out var frame))
            {
                var header = stream.AsSpan(offset, ProtocolConstants.HeaderSize);
                var bodyLength = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
                Check(frame.Version == header[2] && (byte)frame.Type == header[3] &&
                      frame.RequestId == BinaryPrimitives.ReadUInt32BigEndian(header[4..]), "frame fields differ from its header");
                Check(frame.Body.Length == bodyLength, "body length differs from the header's");
                Check(consumed.Equals(examined), "a complete frame must leave consumed == examined");
                var rest = buffer.Slice(consumed);
                Check(rest.Length == buffer.Length - ProtocolConstants.HeaderSize - bodyLength, "consumed is not just past the body");
                Check(frame.BodySpan(scratch).SequenceEqual(stream.AsSpan(offset + ProtocolConstants.HeaderSize, bodyLength)),
                    "body bytes differ from the stream's");
                Decode(frame, scratch);
                offset += ProtocolConstants.HeaderSize + bodyLength;
                buffer = rest;
            }
            // Not complete yet: the caller must keep every byte and wait for more.
            Check(buffer.Length < ProtocolConstants.HeaderSize ||
                  buffer.Length < ProtocolConstants.HeaderSize + (long)BinaryPrimitives.ReadInt32BigEndian(stream.AsSpan(offset + 8, 4)),
                "returned false on a complete frame");
        }
        catch (FrameException e)
        {
            Check(e.Code is ErrorCode.MalformedRequest or ErrorCode.FrameTooLarge, $"frame error with code {e.Code}");
            Check(e.Message.Length > 0, "frame error without a message");
        }
    }

    /// <summary>The session's decoding of a request body: the decoder answers with a reason, never an exception.</summary>
    private static void Decode(in Frame frame, Span<byte> scratch)
    {
        var body = frame.BodySpan(scratch);
        var decoded = frame.Version == ProtocolConstants.SignedVersion
            ? SignedActivationRequest.TryRead(body, out _, out var problem)
            : ActivationRequest.TryRead(body, out _, out problem);
        Check(decoded || problem.Length > 0, "a refused body without a reason");
    }

    private static void Check(bool condition, string what)
    {
        if (!condition) throw new ContractViolation(what);
    }

    public IEnumerable<(string Name, byte[] Bytes)> Seeds(string repoRoot)
    {
        var request = WireSamples.Request;
        var v1 = WireSamples.Frame(7, request);
        var v2 = WireSamples.Frame(8, new SignedActivationRequest(WireSamples.Nonce, request));
        var error = WireSamples.Frame(9, WireSamples.Error);
        var response = WireSamples.Frame(10, WireSamples.Response);
        yield return ("v1-request", [0, .. v1]);
        yield return ("v2-request", [0, .. v2]);
        yield return ("v2-request-in-4-byte-segments", [0x13, .. v2]);
        yield return ("error", [0, .. error]);
        yield return ("response", [0, .. response]);
        yield return ("pipelined", [0x1f, .. v2, .. v1, .. v2]);
        yield return ("truncated", [0, .. v2[..^5]]);
    }
}

/// <summary>A byte stream cut into a chain of buffer segments, as a pipe delivers socket reads.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Cut(byte[] stream, int size)
    {
        if (stream.Length == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segments(stream.AsMemory(0, Math.Min(size, stream.Length)), 0);
        var last = first;
        for (var at = size; at < stream.Length; at += size)
        {
            var next = new Segments(stream.AsMemory(at, Math.Min(size, stream.Length - at)), at);
            last.Next = next;
            last = next;
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
