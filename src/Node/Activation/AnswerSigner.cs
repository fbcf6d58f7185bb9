using KmsCluster.Node.Licensing;
using KmsCluster.Protocol.Signing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Node.Activation;

/// <summary>
/// Signs answers in batches, for all connections of the node (group commit, as Roughtime signs): an answer that
/// is ready joins the queue; if no batch is being signed, one is started on the thread pool. The batch takes every
/// answer queued, builds their Merkle tree (the leaves were hashed by the threads that queued them), makes one
/// ECDSA signature over the root and hands each answer, with its leaf index, audit path and the signature, to its
/// connection. Answers that become ready meanwhile wait for the next batch, so the signatures per second stay at
/// about one per signing time however high the rate, and a lone answer is signed at once.
/// </summary>
public sealed class AnswerSigner(HostCredentials credentials)
{
    /// <summary>Largest batch: its audit paths stay 12 hashes (384 bytes) long at most.</summary>
    public const int MaxBatch = 4096;

    private readonly Lock _gate = new();
    private List<Job> _queue = [];
    private List<Job> _spare = []; // the drainer's: only one drain runs at a time
    private bool _draining;

    /// <summary>Queues one answer; its leaf is hashed here, on the caller's thread.</summary>
    public void Enqueue(IResponseSink sink, uint requestId, CertifiedKey key, SignedAnswerContent content)
    {
        byte[] bytes;
        try
        {
            bytes = content.Encode();
        }
        catch (ArgumentException e)
        {
            sink.SendError(requestId, new ErrorResponse(ErrorCode.InternalError, 1000, "cannot encode the answer: " + e.Message),
                ProtocolConstants.SignedVersion);
            return;
        }
        var job = new Job(sink, requestId, key, bytes, MerkleTree.LeafHash(bytes));
        lock (_gate)
        {
            _queue.Add(job);
            if (_draining) return;
            _draining = true;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static signer => signer.Drain(), this, preferLocal: false);
    }

    private void Drain()
    {
        while (true)
        {
            List<Job> batch;
            lock (_gate)
            {
                if (_queue.Count == 0)
                {
                    _draining = false;
                    return;
                }
                batch = _queue;
                _queue = _spare;
            }
            for (var start = 0; start < batch.Count; start += MaxBatch)
            {
                Sign(batch, start, Math.Min(MaxBatch, batch.Count - start));
            }
            batch.Clear();
            _spare = batch;
        }
    }

    private void Sign(List<Job> jobs, int start, int count)
    {
        MerkleBatch tree;
        byte[] signature;
        try
        {
            tree = MerkleTree.Build(jobs.GetRange(start, count).ConvertAll(j => j.Leaf));
            signature = credentials.Sign(SignedActivationResponse.SignedMessage(tree.Root));
        }
        catch (Exception e)
        {
            for (var i = start; i < start + count; i++)
            {
                jobs[i].Sink.SendError(jobs[i].RequestId,
                    new ErrorResponse(ErrorCode.InternalError, 1000, "signing the answer failed: " + e.Message), ProtocolConstants.SignedVersion);
            }
            return;
        }
        for (var i = 0; i < count; i++)
        {
            var job = jobs[start + i];
            job.Sink.SendSigned(job.RequestId, job.Key,
                new SignedActivationResponse(job.Content, (uint)i, (uint)count, tree.Path(i), signature));
        }
    }

    private readonly record struct Job(IResponseSink Sink, uint RequestId, CertifiedKey Key, byte[] Content, byte[] Leaf);
}
