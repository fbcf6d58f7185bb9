using System.Buffers.Binary;
using System.Text;
using KmsCluster.Protocol.Tests.Support;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Tests;

/// <summary>Bad bodies: every decoder answers false with a reason and never throws.</summary>
public class BodyDecodingTests
{
    // Body offsets from docs/protocol.md.
    private const int RequestClientTime = 48, RequestLicenseState = 58, RequestFlags = 63, RequestNameLength = 64, RequestName = 65;
    private const int ResponseHostTime = 32, ResponseFlags = 44, ResponseValidUntil = 45, ResponseNameLength = 61, ResponseName = 62;
    private const int ErrorMessageLength = 6, ErrorMessage = 8;

    private static readonly byte[] RequestBody = TestWire.RequestBody(TestWire.Request());
    private static readonly byte[] ResponseBody = TestWire.ResponseBody(TestWire.Response());
    private static readonly byte[] ErrorBody = TestWire.ErrorBody(TestWire.Error());

    private static string RejectRequest(byte[] body)
    {
        Assert.False(ActivationRequest.TryRead(body, out var request, out var error));
        Assert.Equal(default, request);
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error;
    }

    private static string RejectResponse(byte[] body)
    {
        Assert.False(ActivationResponse.TryRead(body, out var response, out var error));
        Assert.Equal(default, response);
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error;
    }

    private static string RejectError(byte[] body)
    {
        Assert.False(ErrorResponse.TryRead(body, out var decoded, out var problem));
        Assert.Equal(default, decoded);
        Assert.False(string.IsNullOrWhiteSpace(problem));
        return problem;
    }

    private static byte[] With(byte[] body, int offset, params byte[] bytes)
    {
        var copy = body.ToArray();
        bytes.CopyTo(copy, offset);
        return copy;
    }

    private static byte[] WithTime(byte[] body, int offset, long milliseconds)
    {
        var copy = body.ToArray();
        BinaryPrimitives.WriteInt64BigEndian(copy.AsSpan(offset), milliseconds);
        return copy;
    }

    /// <summary>A body whose name field holds exactly <paramref name="name"/> (length byte included).</summary>
    private static byte[] WithName(byte[] body, int lengthOffset, byte[] name) =>
        [.. body[..lengthOffset], (byte)name.Length, .. name];

    public static TheoryData<string> InvalidUtf8 => new()
    {
        "ff",           // never valid
        "c328",         // lead byte without its continuation
        "c0af",         // overlong '/'
        "eda080",       // a UTF-16 surrogate
        "e282",         // a three-byte character cut short
        "f4908080",     // beyond U+10FFFF
        "41bf42",       // a stray continuation byte
    };

    public static TheoryData<string> ControlCharacters => new() { "\0", "\t", "\n", "\r", "\u001b", "\u007f", "\u0085", "\u009f" };

    [Fact]
    public void A_request_truncated_at_any_length_is_rejected()
    {
        for (var length = 0; length < RequestBody.Length; length++)
        {
            RejectRequest(RequestBody[..length]);
        }
    }

    [Fact]
    public void A_response_truncated_at_any_length_is_rejected()
    {
        for (var length = 0; length < ResponseBody.Length; length++)
        {
            RejectResponse(ResponseBody[..length]);
        }
    }

    [Fact]
    public void An_error_truncated_at_any_length_is_rejected()
    {
        for (var length = 0; length < ErrorBody.Length; length++)
        {
            RejectError(ErrorBody[..length]);
        }
    }

    [Fact]
    public void A_trailing_byte_after_the_last_field_is_rejected()
    {
        Assert.Contains("length", RejectRequest([.. RequestBody, 0x41]));
        Assert.Contains("length", RejectResponse([.. ResponseBody, 0x41]));
        Assert.Contains("length", RejectError([.. ErrorBody, 0x41]));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(200)]
    public void A_name_length_that_does_not_match_the_body_is_rejected(int delta)
    {
        var requestLength = (byte)(RequestBody[RequestNameLength] + delta);
        var responseLength = (byte)(ResponseBody[ResponseNameLength] + delta);
        var errorLength = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(ErrorBody.AsSpan(ErrorMessageLength)) + delta);
        var errorBody = ErrorBody.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(errorBody.AsSpan(ErrorMessageLength), errorLength);

        Assert.Contains("workstation name length", RejectRequest(With(RequestBody, RequestNameLength, requestLength)));
        Assert.Contains("host name length", RejectResponse(With(ResponseBody, ResponseNameLength, responseLength)));
        Assert.Contains("message length", RejectError(errorBody));
    }

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void Invalid_utf8_in_a_name_or_message_is_rejected(string hex)
    {
        var bad = Convert.FromHexString(hex);
        Assert.Contains("UTF-8", RejectRequest(WithName(RequestBody, RequestNameLength, bad)));
        Assert.Contains("UTF-8", RejectResponse(WithName(ResponseBody, ResponseNameLength, bad)));
        var errorBody = ErrorBody[..ErrorMessage];
        BinaryPrimitives.WriteUInt16BigEndian(errorBody.AsSpan(ErrorMessageLength), (ushort)bad.Length);
        Assert.Contains("UTF-8", RejectError([.. errorBody, .. bad]));
    }

    [Theory]
    [MemberData(nameof(ControlCharacters))]
    public void A_control_character_in_a_name_is_rejected(string control)
    {
        var name = Encoding.UTF8.GetBytes("PC" + control + "07");
        RejectRequest(WithName(RequestBody, RequestNameLength, name));
        RejectResponse(WithName(ResponseBody, ResponseNameLength, name));
    }

    [Theory]
    [MemberData(nameof(ControlCharacters))]
    public void A_control_character_in_an_error_message_is_allowed(string control)
    {
        var error = new ErrorResponse(ErrorCode.InternalError, 1000, "line one" + control + "line two");
        Assert.True(ErrorResponse.TryRead(TestWire.ErrorBody(error), out var decoded, out _));
        Assert.Equal(error, decoded);
    }

    [Fact]
    public void Names_with_non_ascii_letters_and_emoji_are_accepted()
    {
        var name = Encoding.UTF8.GetBytes("Büro-Rechner 東京 😀");
        Assert.True(ActivationRequest.TryRead(WithName(RequestBody, RequestNameLength, name), out var request, out _));
        Assert.Equal("Büro-Rechner 東京 😀", request.Workstation);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(255)]
    public void An_unknown_licence_state_is_rejected(byte state)
    {
        Assert.Contains($"licence state {state}", RejectRequest(With(RequestBody, RequestLicenseState, state)));
    }

    [Theory]
    [InlineData(0x02)]
    [InlineData(0x03)]
    [InlineData(0x80)]
    [InlineData(0xFF)]
    public void Unknown_flag_bits_are_rejected(byte flags)
    {
        Assert.Contains("flag", RejectRequest(With(RequestBody, RequestFlags, flags)));
        Assert.Contains("flag", RejectResponse(With(ResponseBody, ResponseFlags, flags)));
    }

    [Fact]
    public void The_defined_flag_bit_reads_as_its_field()
    {
        Assert.True(ActivationRequest.TryRead(With(RequestBody, RequestFlags, 0x00), out var request, out _));
        Assert.False(request.IsVirtualMachine);
        Assert.True(ActivationRequest.TryRead(With(RequestBody, RequestFlags, 0x01), out request, out _));
        Assert.True(request.IsVirtualMachine);
        Assert.True(ActivationResponse.TryRead(With(ResponseBody, ResponseFlags, 0x00), out var response, out _));
        Assert.False(response.Activated);
    }

    [Fact]
    public void An_empty_client_machine_id_is_rejected()
    {
        Assert.Contains("client machine id", RejectRequest(With(RequestBody, 0, new byte[16])));
    }

    [Fact]
    public void Empty_application_and_product_ids_are_left_to_the_host()
    {
        var body = With(RequestBody, 16, new byte[32]);
        Assert.True(ActivationRequest.TryRead(body, out var request, out _));
        Assert.Equal(Guid.Empty, request.ApplicationId);
        Assert.Equal(Guid.Empty, request.ProductId);
    }

    public static TheoryData<long> OutOfRangeTimes => new()
    {
        long.MinValue,
        long.MaxValue,
        WireTime.MinUnixMilliseconds - 1,
        WireTime.MaxUnixMilliseconds + 1,
    };

    [Theory]
    [MemberData(nameof(OutOfRangeTimes))]
    public void An_out_of_range_time_is_rejected(long milliseconds)
    {
        Assert.Contains("time", RejectRequest(WithTime(RequestBody, RequestClientTime, milliseconds)));
        Assert.Contains("time", RejectResponse(WithTime(ResponseBody, ResponseHostTime, milliseconds)));
        Assert.Contains("time", RejectResponse(WithTime(ResponseBody, ResponseValidUntil, milliseconds)));
    }

    [Fact]
    public void The_first_and_last_representable_milliseconds_are_accepted()
    {
        Assert.Equal(-62135596800000, WireTime.MinUnixMilliseconds);
        Assert.Equal(253402300799999, WireTime.MaxUnixMilliseconds);
        foreach (var ms in new[] { WireTime.MinUnixMilliseconds, WireTime.MaxUnixMilliseconds })
        {
            Assert.True(ActivationRequest.TryRead(WithTime(RequestBody, RequestClientTime, ms), out var request, out _));
            Assert.Equal(ms, request.ClientTime.ToUnixTimeMilliseconds());
            Assert.True(ActivationResponse.TryRead(WithTime(ResponseBody, ResponseValidUntil, ms), out var response, out _));
            Assert.Equal(ms, response.ValidUntil!.Value.ToUnixTimeMilliseconds());
        }
    }

    [Fact]
    public void Zero_means_no_valid_until_but_a_real_epoch_for_the_other_times()
    {
        Assert.True(ActivationResponse.TryRead(WithTime(ResponseBody, ResponseValidUntil, 0), out var response, out _));
        Assert.Null(response.ValidUntil);

        Assert.True(ActivationResponse.TryRead(WithTime(ResponseBody, ResponseHostTime, 0), out response, out _));
        Assert.Equal(DateTimeOffset.UnixEpoch, response.HostTime);
        Assert.True(ActivationRequest.TryRead(WithTime(RequestBody, RequestClientTime, 0), out var request, out _));
        Assert.Equal(DateTimeOffset.UnixEpoch, request.ClientTime);
    }

    [Fact]
    public void An_error_message_longer_than_1024_bytes_is_rejected_even_when_the_length_matches()
    {
        var body = new byte[ErrorMessage + 1025];
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(0), (ushort)ErrorCode.InternalError);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(ErrorMessageLength), 1025);
        body.AsSpan(ErrorMessage).Fill((byte)'a');

        Assert.Contains("1024", RejectError(body));

        // 1024 bytes is the limit itself.
        var fits = body[..^1];
        BinaryPrimitives.WriteUInt16BigEndian(fits.AsSpan(ErrorMessageLength), 1024);
        Assert.True(ErrorResponse.TryRead(fits, out var error, out _));
        Assert.Equal(1024, error.Message.Length);
    }
}
