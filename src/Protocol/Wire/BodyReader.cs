using System.Buffers.Binary;
using System.Text;

namespace KmsCluster.Protocol.Wire;

/// <summary>Big-endian field reader over a frame body. Every read checks the remaining length, so a
/// truncated or lying body yields <c>false</c>, never an exception.</summary>
internal ref struct BodyReader(ReadOnlySpan<byte> body)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _body = body;
    private int _position;

    public readonly int Remaining => _body.Length - _position;

    public bool TryReadByte(out byte value)
    {
        value = 0;
        if (Remaining < 1) return false;
        value = _body[_position++];
        return true;
    }

    public bool TryReadUInt16(out ushort value)
    {
        value = 0;
        if (Remaining < 2) return false;
        value = BinaryPrimitives.ReadUInt16BigEndian(_body[_position..]);
        _position += 2;
        return true;
    }

    public bool TryReadUInt32(out uint value)
    {
        value = 0;
        if (Remaining < 4) return false;
        value = BinaryPrimitives.ReadUInt32BigEndian(_body[_position..]);
        _position += 4;
        return true;
    }

    public bool TryReadUInt128(out UInt128 value)
    {
        value = 0;
        if (Remaining < 16) return false;
        value = BinaryPrimitives.ReadUInt128BigEndian(_body[_position..]);
        _position += 16;
        return true;
    }

    /// <summary>The next <paramref name="count"/> bytes as they are.</summary>
    public bool TryReadBytes(int count, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (Remaining < count) return false;
        value = _body.Slice(_position, count);
        _position += count;
        return true;
    }

    public bool TryReadGuid(out Guid value)
    {
        value = Guid.Empty;
        if (Remaining < 16) return false;
        value = new Guid(_body.Slice(_position, 16), bigEndian: true);
        _position += 16;
        return true;
    }

    /// <summary>Milliseconds since the Unix epoch, UTC; 0 reads as <c>null</c> when <paramref name="zeroIsNull"/>.</summary>
    public bool TryReadTime(out DateTimeOffset? value, bool zeroIsNull)
    {
        value = null;
        if (Remaining < 8) return false;
        var ms = BinaryPrimitives.ReadInt64BigEndian(_body[_position..]);
        _position += 8;
        if (ms == 0 && zeroIsNull) return true;
        if (ms < WireTime.MinUnixMilliseconds || ms > WireTime.MaxUnixMilliseconds) return false;
        value = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        return true;
    }

    /// <summary>UTF-8 text of <paramref name="byteCount"/> bytes; names may not hold control characters.</summary>
    public bool TryReadText(int byteCount, out string value, bool allowControl = false)
    {
        value = string.Empty;
        if (Remaining < byteCount) return false;
        var bytes = _body.Slice(_position, byteCount);
        _position += byteCount;
        if (byteCount == 0) return true;
        try
        {
            value = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        if (allowControl) return true;
        foreach (var c in value)
        {
            if (char.IsControl(c)) return false;
        }
        return true;
    }
}

/// <summary>Big-endian field writer into a span sized by the caller.</summary>
internal ref struct BodyWriter(Span<byte> body)
{
    private readonly Span<byte> _body = body;
    private int _position;

    public readonly int Written => _position;

    public void WriteByte(byte value) => _body[_position++] = value;

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_body[_position..], value);
        _position += 2;
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(_body[_position..], value);
        _position += 4;
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_body[_position..], value);
        _position += 4;
    }

    public void WriteUInt128(UInt128 value)
    {
        BinaryPrimitives.WriteUInt128BigEndian(_body[_position..], value);
        _position += 16;
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_body[_position..]);
        _position += value.Length;
    }

    public void WriteGuid(Guid value)
    {
        value.TryWriteBytes(_body.Slice(_position, 16), bigEndian: true, out _);
        _position += 16;
    }

    public void WriteTime(DateTimeOffset? value)
    {
        BinaryPrimitives.WriteInt64BigEndian(_body[_position..], value?.ToUnixTimeMilliseconds() ?? 0);
        _position += 8;
    }

    public void WriteUtf8(string value)
    {
        _position += Encoding.UTF8.GetBytes(value, _body[_position..]);
    }
}

/// <summary>Timestamps travel as signed 64-bit milliseconds since 1970-01-01T00:00:00Z.</summary>
public static class WireTime
{
    public static readonly long MinUnixMilliseconds = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    public static readonly long MaxUnixMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>The instant as it survives a round trip through the wire (millisecond precision).</summary>
    public static DateTimeOffset Truncate(DateTimeOffset value) =>
        DateTimeOffset.FromUnixTimeMilliseconds(value.ToUnixTimeMilliseconds());
}
