using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using KmsCluster.Protocol.Wire;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// kms-echo --listen 127.0.0.1:0: the baseline for bench/: Kestrel, the frame reader and writer, nothing else.
var listen = args.Length >= 2 && args[0] == "--listen" ? IPEndPoint.Parse(args[1]) : new IPEndPoint(IPAddress.Loopback, 1688);
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.ClearProviders();
ListenOptions? bound = null;
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(listen, options =>
{
    options.UseConnectionHandler<EchoHandler>();
    bound = options;
}));
var app = builder.Build();
await app.StartAsync();
Console.WriteLine($"kms-echo ready: activation={bound!.EndPoint}");
await app.WaitForShutdownAsync();

/// <summary>Answers each request frame with a response frame of the size the real node sends.</summary>
internal sealed class EchoHandler : ConnectionHandler
{
    // The real node's host name in benchmarks is "bench", so the frames are the same size.
    private static readonly Guid HostId = Guid.NewGuid();

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                var buffer = result.Buffer;
                var answered = false;
                while (FrameReader.TryParse(buffer, out var consumed, out _, out var frame))
                {
                    Answer(output, frame);
                    answered = true;
                    buffer = buffer.Slice(consumed);
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (answered && (await output.FlushAsync()).IsCompleted) break;
                if (result.IsCompleted) break;
            }
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or FrameException)
        {
        }
    }

    private static void Answer(PipeWriter output, in Frame frame)
    {
        Span<byte> scratch = stackalloc byte[ProtocolConstants.MaxBodySize];
        // A v2 request is a nonce and then the v1 body; the echo answers unsigned (v1) either way.
        ActivationRequest.TryRead(frame.BodySpan(scratch)[(frame.Version == ProtocolConstants.SignedVersion ? SignedActivationRequest.NonceSize : 0)..],
            out var request, out _);
        var now = DateTimeOffset.UtcNow;
        FrameWriter.Write(output, frame.RequestId, new ActivationResponse(request.ClientMachineId, HostId, "bench",
            now, 50, 25, true, now.AddDays(180), 120, 10080));
    }
}
