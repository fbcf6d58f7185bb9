using System.Buffers;
using System.Text;
using System.Text.Json;
using KmsCluster.Node.Activation;

namespace KmsCluster.Node.RequestLogging;

/// <summary>
/// The one reader of the request log's queue: waits for lines, takes every line queued (up to a batch), writes them
/// as JSON lines to the file (rotating it by size) or to standard output, and flushes once per batch. On shutdown it
/// writes what is still queued. A write that fails (disk full) is logged and its lines counted as lost; the writer
/// carries on with the next batch.
/// </summary>
internal sealed partial class RequestLogWriter(RequestLog log, HostIdentity host, ILogger<RequestLogWriter> logger) : BackgroundService
{
    private const int MaxBatch = 4096;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = log.Settings!;
        using var file = settings.Path is { } path
            ? new RotatingFile(path, settings.MaxSizeBytes, settings.Files, log.CountRotation)
            : null;
        var buffer = new ArrayBufferWriter<byte>(256 * 1024);
        var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        var lineEnds = new List<int>(MaxBatch);
        LogStarted(settings.Destination, settings.MaxSizeBytes, settings.Files);
        // Not stoppingToken: the queue is completed on stop, and the lines in it are still written.
        while (await log.Reader.WaitToReadAsync(CancellationToken.None))
        {
            buffer.ResetWrittenCount();
            lineEnds.Clear();
            while (lineEnds.Count < MaxBatch && log.Reader.TryRead(out var entry))
            {
                json.Reset(buffer);
                entry.WriteTo(json, host.Name);
                json.Flush();
                buffer.Write("\n"u8);
                lineEnds.Add(buffer.WrittenCount);
            }
            Write(file, buffer.WrittenSpan, lineEnds);
        }
    }

    private void Write(RotatingFile? file, ReadOnlySpan<byte> lines, List<int> lineEnds)
    {
        try
        {
            if (file is null)
            {
                // Console.Out is synchronised: the batch cannot interleave with a log line written meanwhile.
                Console.Out.Write(Encoding.UTF8.GetString(lines));
                Console.Out.Flush();
            }
            else
            {
                var start = 0;
                foreach (var end in lineEnds)
                {
                    file.Append(lines[start..end]);
                    start = end;
                }
                file.Flush();
            }
            log.CountWritten(lineEnds.Count);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.CountLost(lineEnds.Count);
            LogWriteFailed(lineEnds.Count, e.Message);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        log.Complete();
        await base.StopAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Request log: one JSON line per request to {Destination} (rotated at {MaxSize} bytes, {Files} files kept)")]
    private partial void LogStarted(string destination, long maxSize, int files);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request log: {Lines} lines lost, the write failed: {Reason}")]
    private partial void LogWriteFailed(int lines, string reason);
}
