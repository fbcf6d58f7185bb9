using System.Buffers;
using KmsCluster.Protocol.Tests.Support;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Tests;

public class FrameReaderTests
{
    private static readonly byte[] RequestFrame = TestWire.Frame(7, TestWire.Request());

    /// <summary>Four frames of every kind, the last with an empty body.</summary>
    private static readonly byte[] Stream =
    [
        .. TestWire.Frame(1, TestWire.Request()),
        .. TestWire.Frame(2, TestWire.Response()),
        .. TestWire.Frame(3, TestWire.Error()),
        .. TestWire.RawFrame(ProtocolConstants.Version, MessageType.Error, 4, []),
    ];

    private static readonly List<ParsedFrame> StreamFrames = TestWire.ParseAll(Stream);

    [Fact]
    public void Several_frames_in_one_buffer_are_all_parsed_in_order()
    {
        Assert.Equal([1u, 2u, 3u, 4u], StreamFrames.Select(f => f.RequestId));
        Assert.Equal(
            [MessageType.ActivationRequest, MessageType.ActivationResponse, MessageType.Error, MessageType.Error],
            StreamFrames.Select(f => f.Type));
        Assert.All(StreamFrames, f => Assert.Equal(ProtocolConstants.Version, f.Version));
        Assert.True(ActivationRequest.TryRead(StreamFrames[0].Body, out var request, out _));
        Assert.Equal(TestWire.Request(), request);
        Assert.True(ActivationResponse.TryRead(StreamFrames[1].Body, out var response, out _));
        Assert.Equal(TestWire.Response(), response);
        Assert.True(ErrorResponse.TryRead(StreamFrames[2].Body, out var error, out _));
        Assert.Equal(TestWire.Error(), error);
    }

    [Fact]
    public void A_frame_with_an_empty_body_is_complete_after_its_header()
    {
        var frame = TestWire.ParseOne(TestWire.RawFrame(1, MessageType.ActivationRequest, 99, []));

        Assert.Equal(99u, frame.RequestId);
        Assert.Empty(frame.Body);
        Assert.False(ActivationRequest.TryRead(frame.Body, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void A_frame_split_into_two_segments_at_every_byte_parses_the_same()
    {
        var expected = TestWire.ParseOne(RequestFrame);
        for (var cut = 0; cut <= RequestFrame.Length; cut++)
        {
            var (frames, remaining) = TestWire.ParseAll(Segments.Split(RequestFrame, cut));
            Assert.Equal(expected, Assert.Single(frames));
            Assert.Equal(0, remaining);
        }
    }

    [Fact]
    public void A_frame_split_into_three_segments_at_every_pair_of_bytes_parses_the_same()
    {
        var expected = TestWire.ParseOne(RequestFrame);
        for (var first = 0; first <= RequestFrame.Length; first++)
        {
            for (var second = first; second <= RequestFrame.Length; second++)
            {
                var (frames, remaining) = TestWire.ParseAll(Segments.Split(RequestFrame, first, second));
                Assert.Equal(expected, Assert.Single(frames));
                Assert.Equal(0, remaining);
            }
        }
    }

    [Fact]
    public void A_stream_of_frames_split_into_two_segments_at_every_byte_parses_the_same()
    {
        for (var cut = 0; cut <= Stream.Length; cut++)
        {
            var (frames, remaining) = TestWire.ParseAll(Segments.Split(Stream, cut));
            Assert.Equal(StreamFrames, frames);
            Assert.Equal(0, remaining);
        }
    }

    [Fact]
    public void A_stream_of_frames_split_into_three_segments_at_every_pair_of_bytes_parses_the_same()
    {
        for (var first = 0; first <= Stream.Length; first++)
        {
            for (var second = first; second <= Stream.Length; second++)
            {
                var (frames, remaining) = TestWire.ParseAll(Segments.Split(Stream, first, second));
                Assert.Equal(StreamFrames, frames);
                Assert.Equal(0, remaining);
            }
        }
    }

    [Fact]
    public void Every_strict_prefix_of_a_frame_is_incomplete()
    {
        for (var length = 0; length < RequestFrame.Length; length++)
        {
            var prefix = RequestFrame[..length];
            AssertIncomplete(new ReadOnlySequence<byte>(prefix));
            // The same prefix one byte per segment.
            AssertIncomplete(Segments.Split(prefix, Enumerable.Range(1, Math.Max(0, length - 1)).ToArray()));
        }

        static void AssertIncomplete(ReadOnlySequence<byte> input)
        {
            Assert.False(FrameReader.TryParse(input, out var consumed, out var examined, out _));
            Assert.Equal(input.Start, consumed);
            Assert.Equal(input.End, examined);
        }
    }

    [Fact]
    public void A_stream_fed_byte_by_byte_yields_each_frame_as_its_last_byte_arrives()
    {
        var pending = new List<byte[]>();
        var frames = new List<ParsedFrame>();
        var completedAt = new List<int>();
        for (var i = 0; i < Stream.Length; i++)
        {
            pending.Add([Stream[i]]);
            var (parsed, remaining) = TestWire.ParseAll(Segments.Of(pending));
            frames.AddRange(parsed);
            completedAt.AddRange(parsed.Select(_ => i + 1));
            // Keep what was not consumed, still one byte per segment.
            pending = pending.Skip(pending.Count - (int)remaining).ToList();
        }

        Assert.Equal(StreamFrames, frames);
        Assert.Empty(pending);
        var ends = new List<int>();
        var end = 0;
        foreach (var frame in StreamFrames)
        {
            end += ProtocolConstants.HeaderSize + frame.Body.Length;
            ends.Add(end);
        }
        Assert.Equal(ends, completedAt);
    }

    [Theory]
    [InlineData(0x47)] // 'G' of an HTTP GET
    [InlineData(0x16)] // a TLS handshake record
    [InlineData(0x43)] // the magic's bytes swapped
    [InlineData(0x00)]
    public void A_bad_first_byte_is_refused_as_soon_as_it_arrives(byte first)
    {
        var e = Assert.Throws<FrameException>(() => Parse([first]));
        Assert.Equal(ErrorCode.MalformedRequest, e.Code);
        Assert.Equal(0u, e.RequestId);
        Assert.Contains("magic", e.Message);

        // Also when it is followed by a whole valid-looking header.
        var frame = RequestFrame.ToArray();
        frame[0] = first;
        Assert.Throws<FrameException>(() => Parse(frame));
    }

    [Theory]
    [InlineData(0x4B)]
    [InlineData(0x00)]
    [InlineData(0x63)] // lower-case 'c'
    public void A_bad_second_byte_is_refused_as_soon_as_it_arrives(byte second)
    {
        var e = Assert.Throws<FrameException>(() => Parse([ProtocolConstants.Magic0, second]));
        Assert.Equal(ErrorCode.MalformedRequest, e.Code);
        Assert.Equal(0u, e.RequestId);
    }

    [Fact]
    public void A_bad_magic_split_across_segments_is_refused_too()
    {
        var e = Assert.Throws<FrameException>(() =>
            FrameReader.TryParse(Segments.Of([[], [ProtocolConstants.Magic0], [0x00]]), out _, out _, out _));
        Assert.Equal(ErrorCode.MalformedRequest, e.Code);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void A_negative_body_length_is_malformed_and_names_the_request(int bodyLength)
    {
        var header = new byte[ProtocolConstants.HeaderSize];
        FrameWriter.WriteHeader(header, 1, MessageType.ActivationRequest, 0xDEADBEEF, bodyLength);

        var e = Assert.Throws<FrameException>(() => Parse(header));
        Assert.Equal(ErrorCode.MalformedRequest, e.Code);
        Assert.Equal(0xDEADBEEFu, e.RequestId);
    }

    [Theory]
    [InlineData(ProtocolConstants.MaxBodySize + 1)]
    [InlineData(int.MaxValue)]
    public void A_body_over_4084_bytes_is_too_large_before_it_arrives(int bodyLength)
    {
        Assert.Equal(4084, ProtocolConstants.MaxBodySize);
        var header = new byte[ProtocolConstants.HeaderSize];
        FrameWriter.WriteHeader(header, 1, MessageType.ActivationRequest, 31, bodyLength);

        var e = Assert.Throws<FrameException>(() => Parse(header));
        Assert.Equal(ErrorCode.FrameTooLarge, e.Code);
        Assert.Equal(31u, e.RequestId);
        Assert.Contains("4096", e.Message);
    }

    [Fact]
    public void A_body_of_exactly_4084_bytes_is_accepted()
    {
        var body = Enumerable.Range(0, ProtocolConstants.MaxBodySize).Select(i => (byte)i).ToArray();
        var frame = TestWire.RawFrame(1, MessageType.ActivationRequest, 5, body);
        Assert.Equal(ProtocolConstants.MaxFrameSize, frame.Length);

        var parsed = TestWire.ParseOne(frame);
        Assert.Equal(body, parsed.Body);
        Assert.False(FrameReader.TryParse(new ReadOnlySequence<byte>(frame[..^1]), out _, out _, out _));
    }

    [Fact]
    public void Frames_of_another_version_or_unknown_type_are_framed_not_judged()
    {
        // The reader leaves version and type to the caller, which answers them per request.
        var frame = TestWire.ParseOne(TestWire.RawFrame(2, (MessageType)200, 8, [1, 2, 3]));

        Assert.Equal(2, frame.Version);
        Assert.Equal((MessageType)200, frame.Type);
        Assert.Equal(8u, frame.RequestId);
        Assert.Equal([1, 2, 3], frame.Body);
    }

    [Fact]
    public void A_broken_envelope_after_good_frames_is_reached_only_after_them()
    {
        byte[] bytes = [.. TestWire.Frame(1, TestWire.Request()), .. "GET / HTTP/1.1\r\n"u8];
        var input = new ReadOnlySequence<byte>(bytes);

        Assert.True(FrameReader.TryParse(input, out var consumed, out _, out var frame));
        Assert.Equal(1u, frame.RequestId);
        Assert.Throws<FrameException>(() => FrameReader.TryParse(input.Slice(consumed), out _, out _, out _));
    }

    [Fact]
    public void A_multi_segment_body_is_copied_into_the_scratch_span()
    {
        var input = Segments.Split(RequestFrame, 20, 50);
        Assert.True(FrameReader.TryParse(input, out _, out _, out var frame));
        Assert.False(frame.Body.IsSingleSegment);

        var scratch = new byte[ProtocolConstants.MaxBodySize];
        Assert.True(ActivationRequest.TryRead(frame.BodySpan(scratch), out var request, out _));
        Assert.Equal(TestWire.Request(), request);
    }

    private static bool Parse(byte[] bytes) =>
        FrameReader.TryParse(new ReadOnlySequence<byte>(bytes), out _, out _, out _);
}
