using KmsCluster.Protocol.Signing;

namespace KmsCluster.Protocol.Tests;

/// <summary>The edges of the batch tree: its depth for each size, the largest and empty batch, and the proofs that
/// cannot fit (index past the batch, a leaf hash or path of the wrong length) lead to no root at all.</summary>
public sealed class MerkleEdgeTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 2)]
    [InlineData(5, 3)]
    [InlineData(8, 3)]
    [InlineData(9, 4)]
    [InlineData(65_536, 16)]
    public void The_depth_is_the_ceiling_of_log2_of_the_size(int count, int depth)
    {
        Assert.Equal(depth, MerkleTree.Depth(count));
    }

    [Fact]
    public void An_empty_batch_has_no_depth_and_no_tree()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.Depth(0));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.Build([]));
        Assert.Contains("a batch holds 1 to 65536 leaves", error.Message);
    }

    [Fact]
    public void A_batch_holds_at_most_65536_answers()
    {
        var leaf = MerkleTree.LeafHash([1]);
        var full = MerkleTree.Build(Enumerable.Repeat(leaf, 65_536).ToList());
        Assert.Equal(65_536, full.Count);
        Assert.Equal(16 * MerkleTree.HashSize, full.Path(65_535).Length);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.Build(Enumerable.Repeat(leaf, 65_537).ToList()));
        Assert.Contains("a batch holds 1 to 65536 leaves", error.Message);
    }

    [Fact]
    public void A_proof_that_cannot_fit_leads_to_no_root()
    {
        var leaves = Enumerable.Range(0, 4).Select(i => MerkleTree.LeafHash([(byte)i])).ToList();
        var tree = MerkleTree.Build(leaves);
        var path = tree.Path(3).ToArray();
        Assert.Equal(tree.Root, MerkleTree.RootFrom(leaves[3], 3, 4, path));

        Assert.Null(MerkleTree.RootFrom(leaves[3], 4, 4, path));
        Assert.Null(MerkleTree.RootFrom(leaves[3][..31], 3, 4, path));
        Assert.Null(MerkleTree.RootFrom([.. leaves[3], 0], 3, 4, path));
        Assert.Null(MerkleTree.RootFrom(leaves[3], 3, 4, path[..63]));
        Assert.Null(MerkleTree.RootFrom(leaves[3], 3, 4, path[..32]));
        Assert.Null(MerkleTree.RootFrom(leaves[3], 3, 4, [.. path, .. path[..32]]));
    }
}
