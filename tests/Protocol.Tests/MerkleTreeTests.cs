using CsCheck;
using KmsCluster.Protocol.Signing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Tests;

/// <summary>The batch tree: every leaf's path leads to the root for every batch size, and no path proves another leaf.</summary>
public class MerkleTreeTests
{
    private static byte[][] Leaves(int count, int seed) =>
        Enumerable.Range(0, count).Select(i => MerkleTree.LeafHash(BitConverter.GetBytes(seed * 100_003 + i))).ToArray();

    [Fact]
    public void Every_leaf_of_every_batch_size_up_to_300_proves_the_root()
    {
        for (var count = 1; count <= 300; count++)
        {
            var leaves = Leaves(count, count);
            var tree = MerkleTree.Build(leaves);
            for (var i = 0; i < count; i++)
            {
                var root = MerkleTree.RootFrom(leaves[i], (uint)i, (uint)count, tree.Path(i).Span);
                Assert.True(root is not null && root.AsSpan().SequenceEqual(tree.Root), $"leaf {i} of {count}");
                Assert.True(tree.Path(i).Length <= MerkleTree.Depth(count) * MerkleTree.HashSize);
            }
        }
    }

    [Fact]
    public void A_proof_is_never_accepted_for_another_leaf_index_or_size() =>
        Gen.Select(Gen.Int[1, 2000], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue])
            .Sample((count, seed, a, b) =>
            {
                var leaves = Leaves(count, seed);
                var tree = MerkleTree.Build(leaves);
                var i = a % count;
                var j = b % count;
                var path = tree.Path(i).Span;
                if (MerkleTree.RootFrom(leaves[i], (uint)i, (uint)count, path) is not { } root || !root.AsSpan().SequenceEqual(tree.Root))
                    return false;
                // Another leaf's content with this leaf's proof, or this proof at another index.
                if (j != i && Matches(MerkleTree.RootFrom(leaves[j], (uint)i, (uint)count, path), tree.Root)) return false;
                if (j != i && Matches(MerkleTree.RootFrom(leaves[i], (uint)j, (uint)count, path), tree.Root)) return false;
                return true;
            }, iter: 300);

    [Fact]
    public void A_flipped_bit_anywhere_in_a_path_changes_the_root() =>
        Gen.Select(Gen.Int[2, 600], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue])
            .Sample((count, a, bit) =>
            {
                var leaves = Leaves(count, count);
                var tree = MerkleTree.Build(leaves);
                var i = a % count;
                var path = tree.Path(i).ToArray();
                path[bit / 8 % path.Length] ^= (byte)(1 << (bit % 8));
                return !Matches(MerkleTree.RootFrom(leaves[i], (uint)i, (uint)count, path), tree.Root);
            }, iter: 300);

    [Fact]
    public void A_leaf_hash_is_not_a_node_hash()
    {
        // Domain separation: hashing 64 bytes as a leaf differs from hashing them as two children.
        var left = MerkleTree.LeafHash([1]);
        var right = MerkleTree.LeafHash([2]);
        var node = new byte[32];
        MerkleTree.NodeHash(left, right, node);
        Assert.NotEqual(node, MerkleTree.LeafHash([.. left, .. right]));
        Assert.Null(MerkleTree.RootFrom(left, 0, 1, right)); // a one-leaf tree has an empty path
        Assert.Equal(left, MerkleTree.RootFrom(left, 0, 1, []));
    }

    [Fact]
    public void A_leaf_hash_is_sha256_of_a_zero_byte_and_the_content_at_any_length()
    {
        // RFC 6962's hash of the empty leaf, then contents short enough for the stack and longer than any body.
        Assert.Equal("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", Convert.ToHexStringLower(MerkleTree.LeafHash([])));
        foreach (var length in new[] { 1, 150, ProtocolConstants.MaxBodySize - 1, ProtocolConstants.MaxBodySize, 10_000 })
        {
            var content = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
            Assert.Equal(System.Security.Cryptography.SHA256.HashData([0, .. content]), MerkleTree.LeafHash(content));
        }
    }

    [Fact]
    public void Nonces_drawn_in_blocks_never_repeat_across_blocks_and_threads()
    {
        var nonces = new System.Collections.Concurrent.ConcurrentBag<UInt128>();
        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 1000; i++) nonces.Add(SignedActivationRequest.NewNonce());
        });
        Assert.Equal(4000, nonces.Distinct().Count());
    }

    private static bool Matches(byte[]? root, byte[] expected) => root is not null && root.AsSpan().SequenceEqual(expected);
}
