using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using KmsCluster.Protocol.Tests.Support;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Tests;

public class FrameWriterTests
{
    public static TheoryData<string> TooLongNames => new()
    {
        new string('x', 256),
        new string('é', 128),       // 256 bytes in 128 characters
        new string('€', 85) + "x",  // 255 + 1
        new string('x', 253) + "😀", // 257 bytes
    };

    [Theory]
    [MemberData(nameof(TooLongNames))]
    public void A_workstation_name_over_255_bytes_is_refused_and_nothing_is_written(string name)
    {
        var output = new ArrayBufferWriter<byte>();
        var e = Assert.Throws<ArgumentException>(() => FrameWriter.Write(output, 1, TestWire.Request(workstation: name)));
        Assert.Contains("255", e.Message);
        Assert.Equal(0, output.WrittenCount);
    }

    [Theory]
    [MemberData(nameof(TooLongNames))]
    public void A_host_name_over_255_bytes_is_refused_and_nothing_is_written(string name)
    {
        var output = new ArrayBufferWriter<byte>();
        var e = Assert.Throws<ArgumentException>(() => FrameWriter.Write(output, 1, TestWire.Response(hostName: name)));
        Assert.Contains("255", e.Message);
        Assert.Equal(0, output.WrittenCount);
    }

    [Theory]
    [InlineData("PC\u000107")]
    [InlineData("PC\n07")]
    [InlineData("PC\u007f07")]
    [InlineData("PC\u008507")]
    public void A_name_with_a_control_character_is_refused_by_the_writer_as_the_reader_would(string name)
    {
        var output = new ArrayBufferWriter<byte>();
        var e = Assert.Throws<ArgumentException>(() => FrameWriter.Write(output, 1, TestWire.Request(workstation: name)));
        Assert.Contains("control character", e.Message);
        Assert.Throws<ArgumentException>(() => FrameWriter.Write(output, 1, TestWire.Response(hostName: name)));
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void The_envelope_holds_magic_version_type_id_and_big_endian_length()
    {
        var frame = TestWire.Frame(0x01020304, TestWire.Request(workstation: "ab"));

        Assert.Equal("KC"u8.ToArray(), frame[..2]);
        Assert.Equal(ProtocolConstants.Version, frame[2]);
        Assert.Equal((byte)MessageType.ActivationRequest, frame[3]);
        Assert.Equal([0x01, 0x02, 0x03, 0x04], frame[4..8]);
        Assert.Equal(65 + 2, BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(8)));
        Assert.Equal(ProtocolConstants.HeaderSize + 65 + 2, frame.Length);
    }

    [Fact]
    public void Guids_are_written_in_rfc_4122_byte_order()
    {
        var body = TestWire.RequestBody(TestWire.Request());
        Assert.Equal(Convert.FromHexString("6f1c1b526d3c4b5b9d550f1a5e1b8f01"), body[..16]);
    }

    [Fact]
    public void Fixed_body_sizes_are_65_62_and_8_bytes()
    {
        Assert.Equal(65, TestWire.RequestBody(TestWire.Request(workstation: "")).Length);
        Assert.Equal(62, TestWire.ResponseBody(TestWire.Response(hostName: "")).Length);
        Assert.Equal(8, TestWire.ErrorBody(new ErrorResponse(ErrorCode.ClockSkew, 0, "")).Length);
    }

    public static TheoryData<string, string> LongMessages => new()
    {
        // message, the part that fits in 1024 bytes
        { new string('a', 1024), new string('a', 1024) },
        { new string('a', 1025), new string('a', 1024) },
        { new string('a', 1023) + "€", new string('a', 1023) },           // € is 3 bytes: cut before it
        { new string('a', 1022) + "é" + "b", new string('a', 1022) + "é" }, // é ends exactly at 1024
        { new string('a', 1021) + "😀", new string('a', 1021) },           // a surrogate pair is never split
        { new string('a', 1020) + "😀" + "b", new string('a', 1020) + "😀" },
        { string.Concat(Enumerable.Repeat("€", 400)), string.Concat(Enumerable.Repeat("€", 341)) },
        { string.Concat(Enumerable.Repeat("😀", 300)), string.Concat(Enumerable.Repeat("😀", 256)) },
    };

    [Theory]
    [MemberData(nameof(LongMessages))]
    public void A_long_error_message_is_cut_to_1024_bytes_on_a_character_boundary(string message, string expected)
    {
        var frame = TestWire.Frame(3, new ErrorResponse(ErrorCode.InternalError, 1000, message));
        var body = TestWire.Body(frame);

        Assert.Equal(Encoding.UTF8.GetByteCount(expected), BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(6)));
        Assert.True(body.Length - 8 <= ProtocolConstants.MaxErrorMessageBytes);
        Assert.True(ErrorResponse.TryRead(body, out var decoded, out var problem), problem);
        Assert.Equal(expected, decoded.Message);
        Assert.Equal(ErrorCode.InternalError, decoded.Code);
        Assert.Equal(1000u, decoded.RetryAfterMilliseconds);
        Assert.Single(TestWire.ParseAll(frame));
    }

    [Fact]
    public void Each_message_gets_its_own_type_byte_from_the_one_generic_write()
    {
        Assert.Equal((byte)MessageType.ActivationRequest, TestWire.Frame(1, TestWire.Request())[3]);
        Assert.Equal((byte)MessageType.ActivationResponse, TestWire.Frame(2, TestWire.Response())[3]);
        Assert.Equal((byte)MessageType.Error, TestWire.Frame(3, TestWire.Error())[3]);
    }

    [Fact]
    public void Writing_a_frame_allocates_nothing_so_the_messages_are_not_boxed()
    {
        var output = new ArrayBufferWriter<byte>(64 * 1024);
        var request = TestWire.Request();
        var response = TestWire.Response();
        var error = TestWire.Error();
        WriteAll(output, request, response, error); // JIT and first-call work out of the way
        output.ResetWrittenCount();

        var before = GC.GetAllocatedBytesForCurrentThread();
        WriteAll(output, request, response, error);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(3, TestWire.ParseAll(output.WrittenSpan.ToArray()).Count);

        static void WriteAll(ArrayBufferWriter<byte> output, in ActivationRequest request, in ActivationResponse response, in ErrorResponse error)
        {
            FrameWriter.Write(output, 1, request);
            FrameWriter.Write(output, 2, response);
            FrameWriter.Write(output, 3, error);
        }
    }

    [Fact]
    public void A_header_written_by_hand_is_read_back_unchanged()
    {
        var header = new byte[ProtocolConstants.HeaderSize];
        FrameWriter.WriteHeader(header, 9, (MessageType)77, 0xFFFFFFFE, 0);

        var frame = TestWire.ParseOne(header);
        Assert.Equal(new ParsedFrame(9, (MessageType)77, 0xFFFFFFFE, ""), frame);
    }
}
