using System.Buffers;
using System.Text;
using CsCheck;
using KmsCluster.Protocol.Tests.Support;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Tests;

/// <summary>CsCheck properties over random messages, streams and garbage. Iterations are bounded so the
/// whole project stays fast; a failure prints a seed that reproduces it.</summary>
public class PropertyTests
{
    private const int Iterations = 2_000;

    // Unicode scalar values a name may hold: no controls, no surrogates.
    private static readonly Gen<int> NameCodePoint = Gen.OneOf(
        Gen.Int[0x20, 0x7E], Gen.Int[0xA0, 0xD7FF], Gen.Int[0xE000, 0xFFFF], Gen.Int[0x10000, 0x10FFFF]);

    // Error messages may hold controls too.
    private static readonly Gen<int> MessageCodePoint = Gen.OneOf(
        Gen.Int[0x00, 0x7F], Gen.Int[0x80, 0x7FF], Gen.Int[0x800, 0xD7FF], Gen.Int[0xE000, 0xFFFF], Gen.Int[0x10000, 0x10FFFF]);

    private static string FromCodePoints(int[] codePoints) => string.Concat(codePoints.Select(char.ConvertFromUtf32));

    /// <summary>Names of 0 to 255 UTF-8 bytes: mixed scripts (at most 63 code points of up to 4 bytes) or
    /// long ASCII runs up to the limit.</summary>
    private static readonly Gen<string> Name = Gen.OneOf(
        NameCodePoint.Array[0, 63].Select(FromCodePoints),
        Gen.Int[0x20, 0x7E].Array[0, 255].Select(FromCodePoints));

    private static readonly Gen<string> Message = Gen.OneOf(
        MessageCodePoint.Array[0, 300].Select(FromCodePoints),
        Gen.Int[0x20, 0x7E].Array[1000, 1100].Select(FromCodePoints));

    private static readonly Gen<long> UnixMilliseconds = Gen.OneOf(
        Gen.Long[WireTime.MinUnixMilliseconds, WireTime.MaxUnixMilliseconds],
        Gen.Long[1_500_000_000_000, 2_000_000_000_000],
        Gen.Long[-1_000, 1_000],
        Gen.Const(WireTime.MinUnixMilliseconds),
        Gen.Const(WireTime.MaxUnixMilliseconds));

    /// <summary>Any instant a DateTimeOffset holds, with sub-millisecond ticks and sometimes a non-zero offset.</summary>
    private static readonly Gen<DateTimeOffset> Time = Gen.Select(UnixMilliseconds, Gen.Int[0, 9_999], Gen.Int[-14 * 60, 14 * 60],
        (ms, ticks, offsetMinutes) =>
        {
            var time = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            if (time.UtcTicks + ticks <= DateTimeOffset.MaxValue.UtcTicks) time = time.AddTicks(ticks);
            var local = time.UtcTicks + TimeSpan.FromMinutes(offsetMinutes).Ticks;
            return local >= DateTimeOffset.MinValue.UtcTicks && local <= DateTimeOffset.MaxValue.UtcTicks
                ? time.ToOffset(TimeSpan.FromMinutes(offsetMinutes))
                : time;
        });

    private static readonly Gen<Guid> NonEmptyGuid = Gen.Guid.Where(g => g != Guid.Empty);

    private static readonly Gen<ActivationRequest> Request = Gen.Select(NonEmptyGuid, Gen.Guid, Gen.Guid, Gen.UShort,
        Gen.Byte[0, LicenseStates.Count - 1], Gen.UInt, Gen.Bool, Name, Time,
        (cmid, application, product, required, state, minutes, vm, workstation, time) =>
            new ActivationRequest(cmid, application, product, required, (LicenseState)state, minutes, vm, workstation, time));

    private static readonly Gen<ActivationResponse> Response = Gen.Select(Gen.Guid, Gen.Guid, Name, Time, Gen.UShort, Gen.UShort,
        Gen.Bool, Gen.Nullable(Time), Gen.UInt, Gen.UInt,
        (cmid, host, name, hostTime, count, threshold, activated, validUntil, activation, renewal) =>
            new ActivationResponse(cmid, host, name, hostTime, count, threshold, activated,
                // 0 on the wire means "none", so the epoch's first millisecond cannot be sent as a validity.
                validUntil is { } v && v.ToUnixTimeMilliseconds() == 0 ? null : validUntil,
                activation, renewal));

    private static readonly Gen<ErrorResponse> Error = Gen.Select(Gen.UShort, Gen.UInt, Message,
        (code, retry, message) => new ErrorResponse((ErrorCode)code, retry, message));

    /// <summary>One frame of any kind, with the message it carries.</summary>
    private static readonly Gen<(uint Id, object Message)> AnyMessage = Gen.Select(Gen.UInt, Gen.OneOf(
        Request.Select(r => (object)r), Response.Select(r => (object)r), Error.Select(e => (object)e)));

    private static byte[] FrameOf(uint id, object message) => message switch
    {
        ActivationRequest r => TestWire.Frame(id, r),
        ActivationResponse r => TestWire.Frame(id, r),
        ErrorResponse e => TestWire.Frame(id, e),
        _ => throw new ArgumentOutOfRangeException(nameof(message)),
    };

    /// <summary>What the message looks like after the wire: times at millisecond precision, the message cut.</summary>
    private static object AfterWire(object message) => message switch
    {
        ActivationRequest r => r with { ClientTime = WireTime.Truncate(r.ClientTime) },
        ActivationResponse r => r with
        {
            HostTime = WireTime.Truncate(r.HostTime),
            ValidUntil = r.ValidUntil is { } v ? WireTime.Truncate(v) : null,
        },
        ErrorResponse e => e with { Message = LongestPrefixWithin(e.Message, ProtocolConstants.MaxErrorMessageBytes) },
        _ => throw new ArgumentOutOfRangeException(nameof(message)),
    };

    private static object? Decode(ParsedFrame frame) => frame.Type switch
    {
        MessageType.ActivationRequest => ActivationRequest.TryRead(frame.Body, out var r, out _) ? r : null,
        MessageType.ActivationResponse => ActivationResponse.TryRead(frame.Body, out var r, out _) ? r : null,
        MessageType.Error => ErrorResponse.TryRead(frame.Body, out var e, out _) ? e : null,
        _ => null,
    };

    /// <summary>Test oracle for the writer's cut: whole code points while they fit.</summary>
    private static string LongestPrefixWithin(string text, int maxBytes)
    {
        var result = new StringBuilder();
        var bytes = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > maxBytes) break;
            bytes += rune.Utf8SequenceLength;
            result.Append(rune.ToString());
        }
        return result.ToString();
    }

    [Fact]
    public void Random_requests_round_trip_exactly() =>
        Request.Sample(request =>
        {
            var frame = TestWire.ParseOne(TestWire.Frame(1, request));
            Assert.True(ActivationRequest.TryRead(frame.Body, out var decoded, out var error), error);
            Assert.Equal(AfterWire(request), decoded);
            Assert.Equal(request.Workstation, decoded.Workstation);
        }, iter: Iterations);

    [Fact]
    public void Random_responses_round_trip_exactly() =>
        Response.Sample(response =>
        {
            var frame = TestWire.ParseOne(TestWire.Frame(2, response));
            Assert.True(ActivationResponse.TryRead(frame.Body, out var decoded, out var error), error);
            Assert.Equal(AfterWire(response), decoded);
            Assert.Equal(response.ValidUntil.HasValue, decoded.ValidUntil.HasValue);
        }, iter: Iterations);

    [Fact]
    public void Random_errors_round_trip_with_the_message_cut_to_whole_characters() =>
        Error.Sample(error =>
        {
            var frame = TestWire.ParseOne(TestWire.Frame(3, error));
            Assert.True(ErrorResponse.TryRead(frame.Body, out var decoded, out var problem), problem);
            Assert.Equal(AfterWire(error), decoded);
            Assert.StartsWith(decoded.Message, error.Message, StringComparison.Ordinal);
            Assert.True(Encoding.UTF8.GetByteCount(decoded.Message) <= ProtocolConstants.MaxErrorMessageBytes);
            if (Encoding.UTF8.GetByteCount(error.Message) <= ProtocolConstants.MaxErrorMessageBytes)
            {
                Assert.Equal(error, decoded);
            }
        }, iter: Iterations);

    [Fact]
    public void A_random_stream_cut_into_random_segments_parses_to_the_same_frames() =>
        Gen.Select(AnyMessage.Array[1, 8], Gen.Double[0, 1].Array[0, 10])
            .Sample((messages, cutFractions) =>
            {
                var stream = messages.SelectMany(m => FrameOf(m.Id, m.Message)).ToArray();
                var cuts = cutFractions.Select(f => (int)(f * stream.Length)).ToArray();

                var (frames, remaining) = TestWire.ParseAll(Segments.Split(stream, cuts));

                Assert.Equal(0, remaining);
                Assert.Equal(messages.Select(m => m.Id), frames.Select(f => f.RequestId));
                Assert.Equal(messages.Select(m => AfterWire(m.Message)), frames.Select(Decode));
            }, iter: 500);

    [Fact]
    public void A_random_stream_cut_short_keeps_every_whole_frame_and_waits_for_the_rest() =>
        Gen.Select(AnyMessage.Array[1, 5], Gen.Double[0, 1], Gen.Double[0, 1].Array[0, 6])
            .Sample((messages, endFraction, cutFractions) =>
            {
                var frames = messages.Select(m => FrameOf(m.Id, m.Message)).ToArray();
                var stream = frames.SelectMany(f => f).ToArray();
                var end = (int)(endFraction * stream.Length);
                var cuts = cutFractions.Select(f => (int)(f * end)).ToArray();

                var (parsed, remaining) = TestWire.ParseAll(Segments.Split(stream[..end], cuts));

                var whole = 0;
                var wholeBytes = 0;
                while (whole < frames.Length && wholeBytes + frames[whole].Length <= end) wholeBytes += frames[whole++].Length;
                Assert.Equal(whole, parsed.Count);
                Assert.Equal(end - wholeBytes, remaining);
            }, iter: 500);

    [Fact]
    public void Random_bytes_make_the_frame_reader_throw_only_frame_exceptions() =>
        Gen.OneOf(
                Gen.Byte.Array[0, 64],
                // Past the magic, so the rest of the envelope is exercised too.
                Gen.Byte.Array[0, 80].Select(tail => (byte[])[ProtocolConstants.Magic0, ProtocolConstants.Magic1, .. tail]),
                Gen.Select(Gen.Byte, Gen.Byte, Gen.UInt, Gen.Int[-4, 100], Gen.Byte.Array[0, 120],
                    (version, type, id, length, body) =>
                    {
                        var frame = new byte[ProtocolConstants.HeaderSize + body.Length];
                        FrameWriter.WriteHeader(frame, version, (MessageType)type, id, length);
                        body.CopyTo(frame, ProtocolConstants.HeaderSize);
                        return frame;
                    }))
            .Sample(bytes =>
            {
                try
                {
                    TestWire.ParseAll(Segments.Split(bytes, bytes.Length / 3));
                }
                catch (FrameException e)
                {
                    Assert.True(Enum.IsDefined(e.Code));
                }
            }, iter: 5_000);

    [Fact]
    public void Random_bytes_never_make_a_body_decoder_throw() =>
        Gen.Byte.Array[0, 400].Sample(DecodeAnything, iter: 5_000);

    [Fact]
    public void Mutated_valid_bodies_never_make_a_body_decoder_throw() =>
        Gen.Select(AnyMessage, Gen.Int[0, int.MaxValue].Array[1, 4], Gen.Byte.Array[4], Gen.Int[-3, 3])
            .Sample((message, positions, values, lengthChange) =>
            {
                var body = TestWire.Body(FrameOf(message.Id, message.Message));
                for (var i = 0; i < positions.Length && body.Length > 0; i++)
                {
                    body[positions[i] % body.Length] = values[i];
                }
                body = lengthChange >= 0 ? [.. body, .. new byte[lengthChange]] : body[..Math.Max(0, body.Length + lengthChange)];
                DecodeAnything(body);
            }, iter: 5_000);

    /// <summary>Every decoder either accepts (and then the body is its canonical encoding) or explains why not.</summary>
    private static void DecodeAnything(byte[] body)
    {
        if (ActivationRequest.TryRead(body, out var request, out var error))
        {
            Assert.Equal(string.Empty, error);
            Assert.Equal(body, TestWire.RequestBody(request));
        }
        else
        {
            Assert.NotEmpty(error);
        }
        if (ActivationResponse.TryRead(body, out var response, out error))
        {
            Assert.Equal(string.Empty, error);
            Assert.Equal(body, TestWire.ResponseBody(response));
        }
        else
        {
            Assert.NotEmpty(error);
        }
        if (ErrorResponse.TryRead(body, out var decoded, out error))
        {
            Assert.Equal(string.Empty, error);
            Assert.Equal(body, TestWire.ErrorBody(decoded));
        }
        else
        {
            Assert.NotEmpty(error);
        }
    }
}
