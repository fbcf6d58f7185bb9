using KmsCluster.Protocol.Signing;

namespace KmsCluster.Protocol.Wire;

/// <summary>
/// A version 2 activation response: the signed content of one answer, its place in the batch the host signed
/// (leaf index, batch size, audit path) and the batch's signature over the Merkle root. Layout: docs/protocol.md.
/// </summary>
/// <param name="Content">The encoded <see cref="SignedAnswerContent"/> (the leaf).</param>
/// <param name="LeafIndex">This answer's leaf in the batch.</param>
/// <param name="LeafCount">The batch's size.</param>
/// <param name="Path">The audit path, 32 bytes per hash, bottom up.</param>
/// <param name="Signature">The host's ECDSA P-256 signature over <see cref="SignedMessage"/> of the root, IEEE P1363.</param>
public readonly record struct SignedActivationResponse(
    ReadOnlyMemory<byte> Content,
    uint LeafIndex,
    uint LeafCount,
    ReadOnlyMemory<byte> Path,
    ReadOnlyMemory<byte> Signature) : IFrameBody
{
    public const int SignatureSize = 64;

    /// <summary>What the signature covers ahead of the root: one context line, so a batch signature can never be
    /// mistaken for the host key's other signatures (its host activation requests).</summary>
    public static ReadOnlySpan<byte> SignedPrefix => "kmscluster-answer-batch/2\n"u8;

    static MessageType IFrameBody.Type => MessageType.ActivationResponse;

    static byte IFrameBody.Version => ProtocolConstants.SignedVersion;

    int IFrameBody.BodyLength
    {
        get
        {
            if (Content.Length > ushort.MaxValue || Path.Length % MerkleTree.HashSize != 0 ||
                Path.Length / MerkleTree.HashSize > MerkleTree.MaxDepth || Signature.Length != SignatureSize)
            {
                throw new ArgumentException("a signed answer needs content, a whole audit path and a 64-byte signature");
            }
            return 2 + Content.Length + 4 + 4 + 1 + Path.Length + SignatureSize;
        }
    }

    void IFrameBody.WriteBody(Span<byte> body)
    {
        var writer = new BodyWriter(body);
        writer.WriteUInt16((ushort)Content.Length);
        writer.WriteBytes(Content.Span);
        writer.WriteUInt32(LeafIndex);
        writer.WriteUInt32(LeafCount);
        writer.WriteByte((byte)(Path.Length / MerkleTree.HashSize));
        writer.WriteBytes(Path.Span);
        writer.WriteBytes(Signature.Span);
    }

    /// <summary>The bytes a batch's signature covers: <see cref="SignedPrefix"/> then the 32-byte root.</summary>
    public static byte[] SignedMessage(ReadOnlySpan<byte> root) => [.. SignedPrefix, .. root];

    /// <summary>Decodes a version 2 response body (copies its parts); the content is decoded too.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out SignedActivationResponse response, out SignedAnswerContent? content,
        out string error)
    {
        response = default;
        content = null;
        var reader = new BodyReader(body);
        if (!reader.TryReadUInt16(out var contentLength) || !reader.TryReadBytes(contentLength, out var contentBytes) ||
            !reader.TryReadUInt32(out var index) || !reader.TryReadUInt32(out var count) || !reader.TryReadByte(out var depth))
        {
            error = "signed response truncated";
            return false;
        }
        if (depth > MerkleTree.MaxDepth || reader.Remaining != depth * MerkleTree.HashSize + SignatureSize)
        {
            error = $"audit path of {depth} hashes and a {SignatureSize}-byte signature do not match the {reader.Remaining} bytes left";
            return false;
        }
        reader.TryReadBytes(depth * MerkleTree.HashSize, out var path);
        reader.TryReadBytes(SignatureSize, out var signature);
        if (!SignedAnswerContent.TryRead(contentBytes, out content, out error))
        {
            return false;
        }
        response = new SignedActivationResponse(contentBytes.ToArray(), index, count, path.ToArray(), signature.ToArray());
        return true;
    }
}
