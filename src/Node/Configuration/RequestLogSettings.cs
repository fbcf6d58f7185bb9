using System.Globalization;

namespace KmsCluster.Node.Configuration;

/// <summary>Where the structured request log goes (--request-log) and how its file rotates.</summary>
/// <param name="Path">The file's full path; null: standard output.</param>
/// <param name="MaxSizeBytes">A file is rotated before a line would take it past this.</param>
/// <param name="Files">Files kept, the current one included.</param>
public sealed record RequestLogSettings(string? Path, long MaxSizeBytes, int Files)
{
    public const string Stdout = "stdout";

    public bool ToStdout => Path is null;

    /// <summary>Where the lines go, for messages and the stats: the path or "stdout".</summary>
    public string Destination => Path ?? Stdout;

    /// <summary>The settings, or null when --request-log is not given. Checks that the file can be written now, so
    /// that a wrong directory stops start-up rather than every line later.</summary>
    /// <exception cref="NodeOptionsException">a bad size or count, or a file that cannot be written.</exception>
    public static RequestLogSettings? Read(NodeSettings settings)
    {
        var target = settings.One(RequestLogFlags.Path).Trim();
        var maxSize = ParseSize(settings.One(RequestLogFlags.MaxSize), RequestLogFlags.MaxSize.Flag);
        var filesText = settings.One(RequestLogFlags.Files).Trim();
        if (!int.TryParse(filesText, NumberStyles.None, CultureInfo.InvariantCulture, out var files) || files is < 1 or > 1000)
        {
            throw new NodeOptionsException($"{RequestLogFlags.Files.Flag}: must be a whole number from 1 to 1000, got \"{filesText}\"");
        }
        if (target.Length == 0)
        {
            return null;
        }
        if (string.Equals(target, Stdout, StringComparison.OrdinalIgnoreCase) || target == "-")
        {
            return new RequestLogSettings(null, maxSize, files);
        }
        var path = System.IO.Path.GetFullPath(target);
        CheckWritable(path);
        return new RequestLogSettings(path, maxSize, files);
    }

    /// <summary>Bytes, or a number with KB, MB, GB or TB (powers of 1024).</summary>
    public static long ParseSize(string text, string flag)
    {
        var trimmed = text.Trim();
        var digits = trimmed.TakeWhile(char.IsAsciiDigit).Count();
        var unit = trimmed[digits..].Trim().ToUpperInvariant();
        long? multiplier = unit switch
        {
            "" or "B" => 1L,
            "K" or "KB" => 1L << 10,
            "M" or "MB" => 1L << 20,
            "G" or "GB" => 1L << 30,
            "T" or "TB" => 1L << 40,
            _ => null,
        };
        if (digits == 0 || multiplier is null ||
            !long.TryParse(trimmed[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var number) ||
            number > (1L << 40) / multiplier)
        {
            throw new NodeOptionsException($"{flag}: \"{text}\" is not a size: bytes, or a number with KB, MB, GB or TB (e.g. 100MB)");
        }
        var bytes = number * multiplier.Value;
        if (bytes < 1024)
        {
            throw new NodeOptionsException($"{flag}: must be at least 1KB, got \"{text}\"");
        }
        return bytes;
    }

    private static void CheckWritable(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(path)!;
        if (Directory.Exists(path))
        {
            throw new NodeOptionsException($"{RequestLogFlags.Path.Flag}: {path} is a directory; name a file in it");
        }
        if (!Directory.Exists(directory))
        {
            throw new NodeOptionsException($"{RequestLogFlags.Path.Flag}: the directory {directory} does not exist");
        }
        try
        {
            using var _ = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeOptionsException($"{RequestLogFlags.Path.Flag}: cannot write {path}: {e.Message}");
        }
    }
}
