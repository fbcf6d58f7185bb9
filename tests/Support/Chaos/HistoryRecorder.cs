using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;

namespace KmsCluster.Testing.Chaos;

/// <summary>Every request of the run and its outcome: kept in memory for the checker and appended as it happens to
/// <c>requests.jsonl</c> in the run's directory (one JSON object a line), so a run that dies still leaves its history.</summary>
public sealed class HistoryRecorder : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    private readonly ConcurrentQueue<RequestRecord> _records = new();
    private readonly Channel<RequestRecord> _pending = Channel.CreateUnbounded<RequestRecord>();
    private readonly Task _writer;
    private long _nextId;

    public HistoryRecorder(string path)
    {
        Path = path;
        _writer = Task.Run(WriteAsync);
    }

    public string Path { get; }

    public IReadOnlyList<RequestRecord> Records => [.. _records.OrderBy(r => r.Id)];

    public int Count => _records.Count;

    public long NextId() => Interlocked.Increment(ref _nextId);

    public void Add(RequestRecord record)
    {
        _records.Enqueue(record);
        _pending.Writer.TryWrite(record);
    }

    private async Task WriteAsync()
    {
        await using var file = new StreamWriter(Path, append: false);
        await foreach (var record in _pending.Reader.ReadAllAsync())
        {
            await file.WriteLineAsync(JsonSerializer.Serialize(record, Json));
            if (_pending.Reader.Count == 0) await file.FlushAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer;
    }
}
