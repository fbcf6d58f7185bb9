using System.Text;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Fuzz.Targets;

/// <summary>
/// The host key parser (<see cref="HostKey.Parse"/>), fed the input as UTF-8 text (invalid sequences read as U+FFFD,
/// as a file read as text would). Contract: a bad document throws <see cref="HostKeyFormatException"/> naming the
/// source; an accepted key writes a document (<see cref="HostKey.ToJson"/>) that parses back to the same key, with
/// the same canonical bytes, so the signature checked is the one over the fields read.
/// </summary>
internal sealed class HostKeyTarget : IFuzzTarget
{
    private const string Source = "fuzz.hostkey.json";

    public string Name => "host-key";

    public void Run(ReadOnlySpan<byte> input)
    {
        HostKey key;
        try
        {
            key = HostKey.Parse(Encoding.UTF8.GetString(input), Source);
        }
        catch (HostKeyFormatException e)
        {
            if (!e.Message.StartsWith(Source, StringComparison.Ordinal)) throw new ContractViolation($"error does not name its source: {e.Message}");
            return;
        }
        var again = HostKey.Parse(key.ToJson(), Source);
        if (!again.CanonicalBytes().AsSpan().SequenceEqual(key.CanonicalBytes()) || !again.Signature.AsSpan().SequenceEqual(key.Signature))
        {
            throw new ContractViolation("a parsed host key does not survive ToJson and Parse");
        }
    }

    public IEnumerable<(string Name, byte[] Bytes)> Seeds(string repoRoot)
    {
        foreach (var file in Directory.GetFiles(Path.Combine(repoRoot, "deploy", "demo-licence"), "*.hostkey.json").Order(StringComparer.Ordinal))
        {
            yield return (Path.GetFileName(file), File.ReadAllBytes(file));
        }
    }
}
