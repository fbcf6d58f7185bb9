using System.Diagnostics;
using System.Text.RegularExpressions;

namespace KmsCluster.Testing;

/// <summary>
/// Finds and removes what labs of runs that died left behind: namespaces (and the processes still in them),
/// links and root FORWARD rules named kmsl + a run id whose <see cref="NetworkLabLock"/> nobody holds. A lab of a
/// run that is still going holds its lock, so two runs at once leave each other alone.
/// </summary>
internal static partial class NetworkLabLeftovers
{
    public static async Task RemoveAsync()
    {
        var dead = new Dictionary<string, bool>();
        bool IsDead(string id) => dead.TryGetValue(id, out var known) ? known : dead[id] = !NetworkLabLock.IsHeld(id);

        foreach (var line in (await NetworkCommand.IpAsync("netns", "list")).Split('\n'))
        {
            var name = line.Split(' ', 2)[0];
            if (LeftoverName().Match(name) is { Success: true } match && IsDead(match.Groups["id"].Value))
            {
                await RemoveNamespaceAsync(name);
            }
        }
        foreach (var line in (await NetworkCommand.IpAsync("-o", "link", "show")).Split('\n'))
        {
            // "7: kmsl1a2b3v0@if6: <BROADCAST,..." - the name ends at '@' (a veth's peer) or ':'.
            var fields = line.Split(':', 3);
            if (fields.Length < 2) continue;
            var name = fields[1].Trim().Split('@')[0];
            if (LeftoverName().Match(name) is { Success: true } match && IsDead(match.Groups["id"].Value))
            {
                await RemoveLinkAsync(name);
            }
        }
        foreach (var rule in (await NetworkCommand.IptablesAsync(null, "-S", "FORWARD")).Split('\n'))
        {
            if (ForwardRuleComment().Match(rule) is { Success: true } match && IsDead(match.Groups["id"].Value))
            {
                await NetworkCommand.IptablesAsync(null, ["-D", .. rule.Trim().Split(' ').Skip(1)]);
            }
        }
        foreach (var (id, isDead) in dead)
        {
            if (isDead) NetworkLabLock.Forget(id);
        }
    }

    /// <summary>Ends the processes still in <paramref name="ns"/> (a dead run's nodes), then removes it; its veth end
    /// and iptables rules go with it.</summary>
    public static async Task RemoveNamespaceAsync(string ns)
    {
        if (!File.Exists(Path.Combine("/run/netns", ns)) && !File.Exists(Path.Combine("/var/run/netns", ns))) return;
        foreach (var pid in (await NetworkCommand.IpAsync("netns", "pids", ns)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                using var process = Process.GetProcessById(int.Parse(pid));
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or TimeoutException)
            {
                // Gone already, or exiting: the namespace is freed when its last process is.
            }
        }
        await NetworkCommand.IpAsync("netns", "delete", ns);
    }

    public static async Task RemoveLinkAsync(string name)
    {
        // Removing a namespace removes the veth end in it and so its peer in the bridge.
        if (!Directory.Exists(Path.Combine("/sys/class/net", name))) return;
        try
        {
            await NetworkCommand.IpAsync("link", "delete", name);
        }
        catch (NetworkLabException e) when (e.Message.Contains("Cannot find device", StringComparison.Ordinal))
        {
            // Went with its namespace meanwhile.
        }
    }

    [GeneratedRegex($"^{NetworkLab.Prefix}(?<id>[0-9a-f]{{5}})([nvp][0-9]+)?$")]
    private static partial Regex LeftoverName();

    [GeneratedRegex($"^-A FORWARD .*--comment \"?{NetworkLab.Prefix}(?<id>[0-9a-f]{{5}})\"?( |$)")]
    private static partial Regex ForwardRuleComment();
}

/// <summary>
/// A lab's claim on its run id: a file in /tmp/kms-netlab held open with an exclusive lock (FileShare.None is
/// flock on Linux). The kernel releases the lock when the process dies however it dies, so a lock that can be
/// taken marks the id's namespaces and links as leftovers.
/// </summary>
internal sealed class NetworkLabLock
{
    private const string Directory = "/tmp/kms-netlab";

    private readonly FileStream _file;

    private NetworkLabLock(string id, FileStream file)
    {
        Id = id;
        _file = file;
    }

    /// <summary>Five hex digits: the lab's names must fit Linux's 15 characters per link name.</summary>
    public string Id { get; }

    /// <summary>A new id no live or dead lab uses, held until <see cref="Release"/>.</summary>
    public static NetworkLabLock TakeNew()
    {
        System.IO.Directory.CreateDirectory(Directory);
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var id = Random.Shared.Next(0, 1 << 20).ToString("x5");
            if (System.IO.Directory.Exists(Path.Combine("/sys/class/net", NetworkLab.Prefix + id))) continue;
            try
            {
                return new NetworkLabLock(id, new FileStream(PathOf(id), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException)
            {
                // Taken: another id.
            }
        }
        throw new NetworkLabException($"no free network lab id in {Directory} after 100 tries");
    }

    /// <summary>A live lab holds <paramref name="id"/>. An id without a lock file has no owner (the file is created
    /// before any link is).</summary>
    public static bool IsHeld(string id)
    {
        try
        {
            using var probe = new FileStream(PathOf(id), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Deletes a dead lab's lock file once its leftovers are gone.</summary>
    public static void Forget(string id) => File.Delete(PathOf(id));

    public void Release()
    {
        File.Delete(PathOf(Id));
        _file.Dispose();
    }

    private static string PathOf(string id) => Path.Combine(Directory, id + ".lock");
}
