using System.Text;

namespace KmsCluster.Protocol.Wire;

/// <summary>A refusal: a code from the table in docs/protocol.md and a short human-readable reason.</summary>
/// <param name="Code">What went wrong.</param>
/// <param name="RetryAfterMilliseconds">For retryable codes, a hint how long to wait; 0 for none.</param>
/// <param name="Message">Short reason, at most 1024 UTF-8 bytes (longer text is cut on write).</param>
public readonly record struct ErrorResponse(ErrorCode Code, uint RetryAfterMilliseconds, string Message) : IFrameBody
{
    static MessageType IFrameBody.Type => MessageType.Error;

    private const int FixedSize = 2 + 4 + 2;

    public bool IsRetryable => Code.IsRetryable();

    int IFrameBody.BodyLength => FixedSize + MessageBytes(Message);

    void IFrameBody.WriteBody(Span<byte> body)
    {
        var writer = new BodyWriter(body);
        writer.WriteUInt16((ushort)Code);
        writer.WriteUInt32(RetryAfterMilliseconds);
        var length = MessageBytes(Message);
        writer.WriteUInt16((ushort)length);
        Encoding.UTF8.GetBytes(Message.AsSpan(0, CharsFitting(Message)), body[writer.Written..]);
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out ErrorResponse error, out string problem)
    {
        error = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadUInt16(out var code) || !reader.TryReadUInt32(out var retryAfter) ||
            !reader.TryReadUInt16(out var length))
        {
            problem = "error body truncated";
            return false;
        }
        if (length > ProtocolConstants.MaxErrorMessageBytes)
        {
            problem = $"error message length {length} exceeds the {ProtocolConstants.MaxErrorMessageBytes}-byte limit";
            return false;
        }
        if (reader.Remaining != length)
        {
            problem = $"error message length {length} does not match the {reader.Remaining} bytes left in the body";
            return false;
        }
        if (!reader.TryReadText(length, out var message, allowControl: true))
        {
            problem = "error message is not valid UTF-8 text";
            return false;
        }
        error = new ErrorResponse((ErrorCode)code, retryAfter, message);
        problem = string.Empty;
        return true;
    }

    private static int MessageBytes(string message) => Encoding.UTF8.GetByteCount(message.AsSpan(0, CharsFitting(message)));

    /// <summary>How many leading characters fit the byte limit without splitting a character.</summary>
    private static int CharsFitting(string message)
    {
        if (message.Length * 3 <= ProtocolConstants.MaxErrorMessageBytes) return message.Length;
        var bytes = 0;
        for (var i = 0; i < message.Length; i++)
        {
            var width = char.IsHighSurrogate(message[i]) && i + 1 < message.Length
                ? Encoding.UTF8.GetByteCount(message.AsSpan(i, 2))
                : Encoding.UTF8.GetByteCount(message.AsSpan(i, 1));
            if (bytes + width > ProtocolConstants.MaxErrorMessageBytes) return i;
            bytes += width;
            if (char.IsHighSurrogate(message[i]) && i + 1 < message.Length) i++;
        }
        return message.Length;
    }
}
