using System.Diagnostics;

namespace KmsCluster.Testing;

/// <summary>
/// A small file system of its own (tmpfs, else a loop-mounted ext4 image) for disk-full tests: <see cref="Fill"/>
/// takes every free byte with one file and <see cref="Free"/> deletes it. Needs root (the suite runs as root);
/// when neither mount is allowed, <see cref="Mount"/> throws with both reasons, so the test fails saying why
/// instead of skipping. Unmounted on dispose.
/// </summary>
public sealed class SmallFileSystem : IDisposable
{
    private readonly string? _image;

    private SmallFileSystem(string path, string kind, string? image)
    {
        Path = path;
        Kind = kind;
        _image = image;
    }

    public string Path { get; }

    /// <summary>"tmpfs" or "loop ext4".</summary>
    public string Kind { get; }

    public string FillerFile => System.IO.Path.Combine(Path, "filler");

    public static SmallFileSystem Mount(int megabytes)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kms-small-fs-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        var (tmpfs, tmpfsError) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0700", "tmpfs", path);
        if (tmpfs == 0)
        {
            return new SmallFileSystem(path, "tmpfs", null);
        }
        var image = path + ".img";
        using (var file = File.Create(image))
        {
            file.SetLength(megabytes * 1024L * 1024L);
        }
        var (mkfs, mkfsError) = Run("mkfs.ext4", "-q", "-F", image);
        var (loop, loopError) = mkfs == 0 ? Run("mount", "-o", "loop", image, path) : (mkfs, mkfsError);
        if (loop == 0)
        {
            return new SmallFileSystem(path, "loop ext4", image);
        }
        File.Delete(image);
        Directory.Delete(path);
        throw new InvalidOperationException(
            $"cannot mount a small file system for the disk-full test (it needs root): tmpfs: {tmpfsError.Trim()}; loop-mounted ext4: {loopError.Trim()}");
    }

    /// <summary>Writes one file until the file system refuses another byte; returns its size.</summary>
    public long Fill()
    {
        using var filler = new FileStream(FillerFile, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        foreach (var chunk in new[] { 1 << 20, 1 << 12, 1 })
        {
            var bytes = new byte[chunk];
            try
            {
                while (true) filler.Write(bytes);
            }
            catch (IOException)
            {
                // No space for a chunk this size: go on with smaller ones.
            }
        }
        return filler.Length;
    }

    /// <summary>Gives the space back.</summary>
    public void Free() => File.Delete(FillerFile);

    public void Dispose()
    {
        // A node that did not stop may still hold files: detach lazily rather than leave the mount behind.
        if (Run("umount", Path).ExitCode != 0) Run("umount", "-l", Path);
        if (_image is not null) File.Delete(_image);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static (int ExitCode, string Error) Run(string program, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(info)!;
            var error = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, error);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"{program}: {e.Message}");
        }
    }
}
