using System.Buffers;
using KmsCluster.Protocol.Tests.Support;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Tests;

public class RoundTripTests
{
    private static Frame ParseSingle(byte[] bytes)
    {
        var input = new ReadOnlySequence<byte>(bytes);
        Assert.True(FrameReader.TryParse(input, out var consumed, out _, out var frame));
        Assert.Equal(bytes.Length, input.GetOffset(consumed));
        return frame;
    }

    [Fact]
    public void A_request_survives_writer_reader_and_decoder()
    {
        var request = TestWire.Request();
        var frame = ParseSingle(TestWire.Frame(0xCAFEBABE, request));

        Assert.Equal(ProtocolConstants.Version, frame.Version);
        Assert.Equal(MessageType.ActivationRequest, frame.Type);
        Assert.Equal(0xCAFEBABEu, frame.RequestId);
        Assert.True(ActivationRequest.TryRead(frame.Body.FirstSpan, out var decoded, out var error), error);
        Assert.Equal(request, decoded);
        Assert.Equal(string.Empty, error);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_response_survives_writer_reader_and_decoder(bool activated)
    {
        var response = TestWire.Response(activated: activated);
        var frame = ParseSingle(TestWire.Frame(42, response));

        Assert.Equal(MessageType.ActivationResponse, frame.Type);
        Assert.Equal(42u, frame.RequestId);
        Assert.True(ActivationResponse.TryRead(frame.Body.FirstSpan, out var decoded, out var error), error);
        Assert.Equal(response, decoded);
        Assert.Equal(activated, decoded.ValidUntil.HasValue);
    }

    [Fact]
    public void An_error_survives_writer_reader_and_decoder()
    {
        var error = new ErrorResponse(ErrorCode.ClockSkew, 0, "client clock is 5h 0m ahead\nof the host clock");
        var frame = ParseSingle(TestWire.Frame(uint.MaxValue, error));

        Assert.Equal(MessageType.Error, frame.Type);
        Assert.Equal(uint.MaxValue, frame.RequestId);
        Assert.True(ErrorResponse.TryRead(frame.Body.FirstSpan, out var decoded, out var problem), problem);
        Assert.Equal(error, decoded);
        Assert.False(decoded.IsRetryable);
    }

    [Fact]
    public void An_error_code_unknown_to_this_build_still_decodes()
    {
        var error = new ErrorResponse((ErrorCode)777, 5, "from the future");
        Assert.True(ErrorResponse.TryRead(TestWire.ErrorBody(error), out var decoded, out _));
        Assert.Equal(error, decoded);
        Assert.Equal("error-777", decoded.Code.Name());
        Assert.False(decoded.IsRetryable);
    }

    [Fact]
    public void Empty_names_and_messages_round_trip()
    {
        var request = TestWire.Request(workstation: "");
        var response = TestWire.Response(hostName: "");
        var error = new ErrorResponse(ErrorCode.InternalError, 1000, "");

        Assert.True(ActivationRequest.TryRead(TestWire.RequestBody(request), out var r1, out _));
        Assert.True(ActivationResponse.TryRead(TestWire.ResponseBody(response), out var r2, out _));
        Assert.True(ErrorResponse.TryRead(TestWire.ErrorBody(error), out var r3, out _));
        Assert.Equal(request, r1);
        Assert.Equal(response, r2);
        Assert.Equal(error, r3);
    }

    [Fact]
    public void Names_of_exactly_255_bytes_round_trip()
    {
        // 127 two-byte characters and one ASCII letter: 255 bytes.
        var name = new string('é', 127) + "x";
        var request = TestWire.Request(workstation: name);
        var response = TestWire.Response(hostName: name);

        Assert.True(ActivationRequest.TryRead(TestWire.RequestBody(request), out var r1, out _));
        Assert.True(ActivationResponse.TryRead(TestWire.ResponseBody(response), out var r2, out _));
        Assert.Equal(name, r1.Workstation);
        Assert.Equal(name, r2.HostName);
    }

    [Fact]
    public void Times_lose_only_their_sub_millisecond_part_and_their_offset()
    {
        var precise = new DateTimeOffset(2025, 6, 1, 14, 0, 0, TimeSpan.FromHours(2)).AddTicks(1_234_567);
        var request = TestWire.Request() with { ClientTime = precise };

        Assert.True(ActivationRequest.TryRead(TestWire.RequestBody(request), out var decoded, out _));
        Assert.Equal(WireTime.Truncate(precise), decoded.ClientTime);
        Assert.Equal(TimeSpan.Zero, decoded.ClientTime.Offset);
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 12, 0, 0, 123, TimeSpan.Zero), decoded.ClientTime);
    }

    [Fact]
    public void The_extreme_times_round_trip()
    {
        foreach (var time in new[] { DateTimeOffset.MinValue, DateTimeOffset.UnixEpoch, WireTime.Truncate(DateTimeOffset.MaxValue) })
        {
            var request = TestWire.Request() with { ClientTime = time };
            Assert.True(ActivationRequest.TryRead(TestWire.RequestBody(request), out var decoded, out var error), error);
            Assert.Equal(time, decoded.ClientTime);
        }
    }

    [Fact]
    public void Every_licence_state_round_trips()
    {
        foreach (var state in Enum.GetValues<LicenseState>())
        {
            var request = TestWire.Request() with { LicenseState = state, IsVirtualMachine = false };
            Assert.True(ActivationRequest.TryRead(TestWire.RequestBody(request), out var decoded, out _));
            Assert.Equal(state, decoded.LicenseState);
            Assert.False(decoded.IsVirtualMachine);
        }
        Assert.Equal(LicenseStates.Count, Enum.GetValues<LicenseState>().Length);
    }

    [Fact]
    public void The_writer_adds_to_what_is_already_in_the_buffer()
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.Write(output, 1, TestWire.Request());
        FrameWriter.Write(output, 2, TestWire.Response());
        FrameWriter.Write(output, 3, TestWire.Error());

        var expected = TestWire.Frame(1, TestWire.Request()).Concat(TestWire.Frame(2, TestWire.Response())).Concat(TestWire.Frame(3, TestWire.Error()));
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }
}
