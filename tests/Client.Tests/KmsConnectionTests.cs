using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Tests;

/// <summary>One pipelined connection against a host whose timing the test controls.</summary>
public sealed class KmsConnectionTests
{
    [Fact]
    public async Task A_late_error_for_a_request_that_timed_out_does_not_break_the_connection()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var lateErrorSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseLateError = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var host = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            await using var stream = new NetworkStream(socket);
            var input = PipeReader.Create(stream);
            var output = PipeWriter.Create(stream);
            var first = await ReadRequestAsync(input);
            // Answer the first request only after the client gave up on it: a window that moved, a slow disk.
            await releaseLateError.Task;
            FrameWriter.Write(output, first.Id, new ErrorResponse(ErrorCode.WindowUnavailable, 1000, "too late"));
            await output.FlushAsync();
            lateErrorSent.SetResult();
            var second = await ReadRequestAsync(input);
            FrameWriter.Write(output, second.Id, FakeKmsHost.ResponseFrom("late-host", second.Request));
            await output.FlushAsync();
            await Task.Delay(500);
        });

        // v1: this fake reads v1 bodies.
        await using var connection = await KmsConnection.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port,
            TestRequests.Patience, version: ProtocolConstants.Version);
        await Assert.ThrowsAsync<TimeoutException>(() =>
            connection.ActivateAsync(TestRequests.New(), TimeSpan.FromMilliseconds(200)));
        releaseLateError.SetResult();
        await lateErrorSent.Task.WaitAsync(TestRequests.Patience);

        var answer = await connection.ActivateAsync(TestRequests.New(), TestRequests.Patience);

        Assert.False(answer.IsError, answer.ToString());
        Assert.Equal("late-host", answer.Response.HostName);
        Assert.True(connection.IsOpen);
        await host.WaitAsync(TestRequests.Patience);
    }

    private static async Task<(uint Id, ActivationRequest Request)> ReadRequestAsync(PipeReader input)
    {
        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            if (FrameReader.TryParse(buffer, out var consumed, out var examined, out var frame))
            {
                Assert.True(ActivationRequest.TryRead(frame.Body.ToArray(), out var request, out var problem), problem);
                var id = frame.RequestId;
                input.AdvanceTo(consumed);
                return (id, request);
            }
            input.AdvanceTo(consumed, examined);
            Assert.False(result.IsCompleted, "the client closed the connection");
        }
    }
}
