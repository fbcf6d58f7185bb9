namespace KmsCluster.Node.RequestLogging;

/// <summary>
/// The request log's file: lines are appended whole; before a line would take the file past the size limit the
/// file is rotated (PATH -> PATH.1 -> PATH.2 ..., the oldest beyond the kept count deleted) and the line starts the
/// new file. A line is never split across files; one longer than the limit gets a file of its own.
/// </summary>
internal sealed class RotatingFile(string path, long maxSizeBytes, int files, Action rotated) : IDisposable
{
    private FileStream? _stream;

    public void Append(ReadOnlySpan<byte> line)
    {
        var stream = _stream ??= Open();
        if (stream.Length > 0 && stream.Length + line.Length > maxSizeBytes)
        {
            Rotate();
            stream = _stream = Open();
        }
        stream.Write(line);
    }

    /// <summary>Writes what is buffered; the end of each batch.</summary>
    public void Flush() => _stream?.Flush();

    private FileStream Open() =>
        new(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 64 * 1024);

    private void Rotate()
    {
        _stream!.Dispose();
        _stream = null;
        // files counts PATH itself: the rotated ones are PATH.1 .. PATH.(files-1).
        var oldest = files - 1;
        if (oldest == 0)
        {
            File.Delete(path);
        }
        else
        {
            File.Delete($"{path}.{oldest}");
            for (var i = oldest - 1; i >= 1; i--)
            {
                if (File.Exists($"{path}.{i}")) File.Move($"{path}.{i}", $"{path}.{i + 1}");
            }
            File.Move(path, $"{path}.1");
        }
        rotated();
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }
}
