using System.IO.Pipelines;
using KmsCluster.Protocol.Tests.Support;
using KmsCluster.Protocol.Transport;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Tests;

/// <summary>The shared outbound writer over a real <see cref="Pipe"/> whose reader plays the peer: a small
/// pause threshold stands for a peer (or socket) that does not keep up.</summary>
public class OutboundFrameWriterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 256, resumeWriterThreshold: 128,
        useSynchronizationContext: false));

    private int _flushed;
    private readonly List<Exception> _failures = [];

    private OutboundFrameWriter NewWriter(FlushTiming timing) => new(_pipe.Writer, timing,
        flushed: n => Interlocked.Add(ref _flushed, n),
        failed: e => { lock (_failures) _failures.Add(e); });

    [Theory]
    [InlineData(FlushTiming.Immediate)]
    [InlineData(FlushTiming.AfterBurst)]
    public async Task Frames_reach_the_peer_in_order_and_each_counted_frame_is_reported_once_flushed(FlushTiming timing)
    {
        var writer = NewWriter(timing);
        Assert.True(writer.Write(1, TestWire.Request()));
        Assert.True(writer.Write(2, TestWire.Response()));
        Assert.True(writer.Write(3, TestWire.Error(), counted: false));

        var frames = await ReadFramesAsync(3);
        Assert.Equal([1u, 2u, 3u], frames.Select(f => f.RequestId));
        Assert.Equal([MessageType.ActivationRequest, MessageType.ActivationResponse, MessageType.Error], frames.Select(f => f.Type));
        await FlushedCountReachesAsync(2);
        Assert.Empty(_failures);
    }

    [Theory]
    [InlineData(FlushTiming.Immediate)]
    [InlineData(FlushTiming.AfterBurst)]
    public async Task A_peer_that_does_not_read_never_blocks_the_sender_and_gets_every_frame_in_order_once_it_reads(FlushTiming timing)
    {
        const int Frames = 500;
        var writer = NewWriter(timing);
        for (var id = 1u; id <= Frames; id++)
        {
            Assert.True(writer.Write(id, TestWire.Response())); // returns although nobody reads
        }
        // Only what fit before the pipe pushed back counts as flushed; the rest waits in the backlog.
        Assert.True(Volatile.Read(ref _flushed) < Frames);
        if (timing == FlushTiming.Immediate) Assert.False(await writer.FlushedAsync(TimeSpan.FromMilliseconds(50)));

        var frames = await ReadFramesAsync(Frames);
        Assert.Equal(Enumerable.Range(1, Frames).Select(i => (uint)i), frames.Select(f => f.RequestId));
        await FlushedCountReachesAsync(Frames);
        Assert.Empty(_failures);
    }

    [Theory]
    [InlineData(FlushTiming.Immediate)]
    [InlineData(FlushTiming.AfterBurst)]
    public async Task A_peer_gone_before_reading_costs_no_exception_and_every_counted_frame_is_still_reported(FlushTiming timing)
    {
        var writer = NewWriter(timing);
        for (var id = 1u; id <= 100; id++) writer.Write(id, TestWire.Response());
        await _pipe.Reader.CompleteAsync(); // the peer went away with frames unread

        await UntilAsync(() => writer.IsClosed, "the writer sees the peer gone");
        Assert.False(writer.Write(101, TestWire.Response()));
        await FlushedCountReachesAsync(101);
        Assert.Empty(_failures); // the peer closing is not an error of ours
    }

    [Theory]
    [InlineData(FlushTiming.Immediate)]
    [InlineData(FlushTiming.AfterBurst)]
    public async Task Writing_to_a_completed_pipe_reports_one_failure_and_never_throws(FlushTiming timing)
    {
        var writer = NewWriter(timing);
        await _pipe.Writer.CompleteAsync(); // as the transport does once a connection is over

        Assert.False(writer.Write(1, TestWire.Response()));
        Assert.False(writer.Write(2, TestWire.Error()));
        Assert.True(writer.IsClosed);
        Assert.Equal(2, Volatile.Read(ref _flushed));
        Assert.IsType<InvalidOperationException>(Assert.Single(_failures));
    }

    [Fact]
    public async Task After_close_the_backlog_of_a_pending_flush_is_dropped_and_its_frames_reported()
    {
        var writer = NewWriter(FlushTiming.Immediate);
        for (var id = 1u; id <= 100; id++) writer.Write(id, TestWire.Response());
        writer.Close();
        Assert.False(writer.Write(101, TestWire.Response()));

        var first = await _pipe.Reader.ReadAsync(); // the peer reads what was flushed before the close
        var bytes = first.Buffer.Length;
        _pipe.Reader.AdvanceTo(first.Buffer.End);
        Assert.True(await writer.FlushedAsync(Patience));

        Assert.Equal(101, Volatile.Read(ref _flushed));
        await _pipe.Writer.CompleteAsync();
        var rest = await _pipe.Reader.ReadAsync();
        Assert.True(rest.Buffer.IsEmpty, $"{rest.Buffer.Length} bytes written after the close ({bytes} before)");
    }

    [Theory]
    [InlineData(FlushTiming.Immediate)]
    [InlineData(FlushTiming.AfterBurst)]
    public async Task A_message_the_protocol_cannot_carry_throws_to_its_sender_only(FlushTiming timing)
    {
        var writer = NewWriter(timing);
        Assert.Throws<ArgumentException>(() => writer.Write(1, TestWire.Request(workstation: new string('x', 256))));
        Assert.True(writer.Write(2, TestWire.Request()));

        var frame = Assert.Single(await ReadFramesAsync(1));
        Assert.Equal(2u, frame.RequestId);
        Assert.False(writer.IsClosed);
    }

    [Theory]
    [InlineData(FlushTiming.Immediate)]
    [InlineData(FlushTiming.AfterBurst)]
    public async Task Senders_on_many_threads_each_get_their_frame_through_whole(FlushTiming timing)
    {
        const int Threads = 8, PerThread = 2_000;
        var writer = NewWriter(timing);
        var reading = ReadFramesAsync(Threads * PerThread);
        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < PerThread; i++) writer.Write((uint)(t * PerThread + i + 1), TestWire.Response());
        })));

        var frames = await reading;
        Assert.Equal(Threads * PerThread, frames.Select(f => f.RequestId).Distinct().Count());
        await FlushedCountReachesAsync(Threads * PerThread);
    }

    /// <summary>Counts are reported after the flush, on the flushing thread: wait for them (bounded, untimed).</summary>
    private async Task FlushedCountReachesAsync(int expected)
    {
        await UntilAsync(() => Volatile.Read(ref _flushed) >= expected, $"{expected} frames reported flushed");
        Assert.Equal(expected, Volatile.Read(ref _flushed)); // and none twice
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        using var expiry = new CancellationTokenSource(Patience);
        try
        {
            while (!condition()) await Task.Delay(1, expiry.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"never happened: {what}");
        }
    }

    private async Task<List<ParsedFrame>> ReadFramesAsync(int count)
    {
        var frames = new List<ParsedFrame>();
        while (frames.Count < count)
        {
            var result = await _pipe.Reader.ReadAsync().AsTask().WaitAsync(Patience);
            var (parsed, remaining) = TestWire.ParseAll(result.Buffer);
            frames.AddRange(parsed);
            var consumed = result.Buffer.Slice(0, result.Buffer.Length - remaining);
            _pipe.Reader.AdvanceTo(consumed.End, result.Buffer.End);
            Assert.False(result.IsCompleted && frames.Count < count, $"the writer stopped after {frames.Count} frames");
        }
        return frames;
    }
}
