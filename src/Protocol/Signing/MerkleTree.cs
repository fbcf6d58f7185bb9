using System.Security.Cryptography;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Signing;

/// <summary>
/// The Merkle tree a host signs a batch of answers with: the tree of RFC 6962 §2.1 (RFC 9162 §2.1) over SHA-256,
/// with domain separation (a leaf hashes <c>0x00 ‖ content</c>, an interior node <c>0x01 ‖ left ‖ right</c>, so a
/// leaf can never pass for a node) and the split at the largest power of two below the size, so any size works
/// without padding. A leaf's audit path lists its siblings from the bottom up.
/// </summary>
public static class MerkleTree
{
    public const int HashSize = 32;

    /// <summary>Longest audit path: a batch holds at most 2^MaxDepth answers.</summary>
    public const int MaxDepth = 16;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    /// <summary>SHA-256(0x00 ‖ <paramref name="content"/>), in one call (no hash object per leaf: a node hashes
    /// every answer it signs).</summary>
    public static byte[] LeafHash(ReadOnlySpan<byte> content)
    {
        // Stryker disable once Conditional,Equality : where the bytes live (stack or heap) changes speed, never the hash
        Span<byte> input = content.Length < ProtocolConstants.MaxBodySize ? stackalloc byte[1 + content.Length] : new byte[1 + content.Length];
        input[0] = LeafPrefix;
        content.CopyTo(input[1..]);
        var hash = new byte[HashSize];
        SHA256.HashData(input, hash);
        return hash;
    }

    /// <summary>SHA-256(0x01 ‖ <paramref name="left"/> ‖ <paramref name="right"/>) into <paramref name="destination"/>.</summary>
    public static void NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right, Span<byte> destination)
    {
        Span<byte> input = stackalloc byte[1 + 2 * HashSize];
        input[0] = NodePrefix;
        left.CopyTo(input[1..]);
        right.CopyTo(input[(1 + HashSize)..]);
        SHA256.HashData(input, destination);
    }

    /// <summary>Depth of a tree of <paramref name="count"/> leaves: the longest audit path, ceil(log2 count).</summary>
    public static int Depth(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return count == 1 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(count - 1));
    }

    /// <summary>
    /// The root a leaf and its audit path lead to (RFC 9162 §2.1.3.2), or null when the path cannot belong to
    /// leaf <paramref name="index"/> of a tree of <paramref name="count"/> leaves (wrong length, index out of range).
    /// </summary>
    public static byte[]? RootFrom(ReadOnlySpan<byte> leafHash, uint index, uint count, ReadOnlySpan<byte> path)
    {
        if (index >= count || leafHash.Length != HashSize || path.Length % HashSize != 0) return null;
        var fn = index;
        var sn = count - 1;
        var r = leafHash.ToArray();
        for (var offset = 0; offset < path.Length; offset += HashSize)
        {
            if (sn == 0) return null;
            var p = path.Slice(offset, HashSize);
            if ((fn & 1) == 1 || fn == sn)
            {
                NodeHash(p, r, r);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        // Stryker disable once Assignment : fn and sn are uint, so >>>= shifts in zeros as >>= does
                        fn >>= 1;
                        // Stryker disable once Assignment : fn and sn are uint, so >>>= shifts in zeros as >>= does
                        sn >>= 1;
                    }
                }
            }
            else
            {
                NodeHash(r, p, r);
            }
            // Stryker disable once Assignment : fn and sn are uint, so >>>= shifts in zeros as >>= does
            fn >>= 1;
            // Stryker disable once Assignment : fn and sn are uint, so >>>= shifts in zeros as >>= does
            sn >>= 1;
        }
        return sn == 0 ? r : null;
    }

    /// <summary>Builds the tree over <paramref name="leafHashes"/> (at least one, at most 2^<see cref="MaxDepth"/>).</summary>
    public static MerkleBatch Build(IReadOnlyList<byte[]> leafHashes)
    {
        var count = leafHashes.Count;
        if (count < 1 || count > 1 << MaxDepth)
        {
            throw new ArgumentOutOfRangeException(nameof(leafHashes), count, $"a batch holds 1 to {1 << MaxDepth} leaves");
        }
        var batch = new MerkleBatch(count, Depth(count));
        batch.Root = batch.Hash(leafHashes, 0, count);
        return batch;
    }
}

/// <summary>A built tree: its root and every leaf's audit path.</summary>
public sealed class MerkleBatch
{
    private readonly int _depth;
    private readonly byte[] _paths; // leaf i's path at i * depth * 32, _lengths[i] hashes long
    private readonly int[] _lengths;

    internal MerkleBatch(int count, int depth)
    {
        Count = count;
        _depth = depth;
        _paths = new byte[count * depth * MerkleTree.HashSize];
        _lengths = new int[count];
    }

    public int Count { get; }

    public byte[] Root { get; internal set; } = [];

    /// <summary>Leaf <paramref name="index"/>'s audit path: its siblings' hashes from the bottom up, 32 bytes each.</summary>
    public ReadOnlyMemory<byte> Path(int index) =>
        _paths.AsMemory(index * _depth * MerkleTree.HashSize, _lengths[index] * MerkleTree.HashSize);

    /// <summary>MTH of leaves [lo, hi); each leaf of one half gets the other half's hash appended to its path
    /// (after the deeper siblings the recursion appended first).</summary>
    internal byte[] Hash(IReadOnlyList<byte[]> leaves, int lo, int hi)
    {
        if (hi - lo == 1) return leaves[lo];
        var k = 1 << (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)(hi - lo - 1)));
        var left = Hash(leaves, lo, lo + k);
        var right = Hash(leaves, lo + k, hi);
        for (var i = lo; i < lo + k; i++) Append(i, right);
        for (var i = lo + k; i < hi; i++) Append(i, left);
        var node = new byte[MerkleTree.HashSize];
        MerkleTree.NodeHash(left, right, node);
        return node;
    }

    private void Append(int leaf, byte[] hash)
    {
        hash.CopyTo(_paths.AsSpan((leaf * _depth + _lengths[leaf]) * MerkleTree.HashSize));
        _lengths[leaf]++;
    }
}
