using System.Security.Cryptography;

namespace KmsCluster.Protocol.Wire;

/// <summary>A version 2 activation request: a fresh random nonce, then the version 1 request body. The host's
/// signed answer carries the nonce back, so an answer recorded once cannot be replayed to another request.</summary>
/// <param name="Nonce">16 random bytes, read big-endian; new for every request.</param>
/// <param name="Request">The request's fields, as in version 1.</param>
public readonly record struct SignedActivationRequest(UInt128 Nonce, ActivationRequest Request) : IFrameBody
{
    public const int NonceSize = 16;

    static MessageType IFrameBody.Type => MessageType.ActivationRequest;

    static byte IFrameBody.Version => ProtocolConstants.SignedVersion;

    int IFrameBody.BodyLength => NonceSize + ((IFrameBody)Request).BodyLength;

    void IFrameBody.WriteBody(Span<byte> body)
    {
        new BodyWriter(body).WriteUInt128(Nonce);
        ((IFrameBody)Request).WriteBody(body[NonceSize..]);
    }

    // Each thread draws its nonces from a block of 256 it took from the system's generator at once: one call per
    // request cost a client generating load as much as everything else it does for an answer.
    private const int NoncesPerDraw = 256;

    [ThreadStatic] private static byte[]? _drawn;
    [ThreadStatic] private static int _next;

    /// <summary>A nonce from the system's cryptographic random generator (drawn in blocks, never used twice).</summary>
    public static UInt128 NewNonce()
    {
        var drawn = _drawn ??= new byte[NoncesPerDraw * NonceSize];
        if (_next == 0)
        {
            RandomNumberGenerator.Fill(drawn);
        }
        var nonce = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(drawn.AsSpan(_next * NonceSize, NonceSize));
        _next = (_next + 1) % NoncesPerDraw;
        return nonce;
    }

    /// <summary>Decodes a version 2 request body; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out SignedActivationRequest request, out string error)
    {
        request = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadUInt128(out var nonce))
        {
            error = "request body truncated in its nonce";
            return false;
        }
        if (!ActivationRequest.TryRead(body[NonceSize..], out var inner, out error))
        {
            return false;
        }
        request = new SignedActivationRequest(nonce, inner);
        return true;
    }
}
