using System.Runtime.Serialization;
using System.Text.Json;
using Akka.Actor;
using KmsCluster.Actors.Serialization;

namespace KmsCluster.Fuzz.Targets;

/// <summary>
/// The inter-node and journal serializer (<see cref="KmsSerializer.FromBinary"/>): what another node sends or the
/// journal hands back. Input: byte 0 picks the manifest (<see cref="Manifests"/>, index modulo their count), the rest
/// is the payload. Contract: a bad payload throws <see cref="SerializationException"/>; an accepted one is of the
/// type its manifest names and can be written again (<see cref="KmsSerializer.ToBinary"/>) and read back.
/// </summary>
internal sealed class SerializerTarget : IFuzzTarget
{
    /// <summary>Every manifest the serializer reads (v2 and the legacy v1), and one it does not. Append only: the
    /// seed corpus's first byte indexes this list.</summary>
    public static readonly string[] Manifests =
    [
        "record-contacts.v2", "contacts-accepted.v2", "contacts-rejected.v2", "window-grant.v2", "revoke-grants.v2",
        "grants-revoked.v2", "get-window.v2", "window-view.v2", "contacts-recorded.v2", "window-snapshot.v2",
        "activate-host.v2", "host-activation-result.v2", "get-host-key-ledger.v2", "host-key-ledger-view.v2",
        "host-activation-recorded.v2", "host-key-ledger-snapshot.v2",
        "record-contacts.v1", "contacts-accepted.v1", "contacts-rejected.v1", "get-window.v1", "window-view.v1",
        "contacts-recorded.v1", "window-snapshot.v1", "activate-host.v1", "host-activation-result.v1",
        "get-host-key-ledger.v1", "host-key-ledger-view.v1", "host-activation-recorded.v1", "host-key-ledger-snapshot.v1",
        "no-such-manifest.v2",
    ];

    private static readonly Lazy<KmsSerializer> Serializer = new(() =>
        new KmsSerializer((ExtendedActorSystem)ActorSystem.Create("fuzz", "akka.loglevel = OFF\nakka.stdout-loglevel = OFF")));

    public string Name => "serializer";

    public void Run(ReadOnlySpan<byte> input)
    {
        // An empty input reads an empty body, never a skipped run (FrameReaderTarget says why).
        var manifest = Manifests[(input.IsEmpty ? 0 : input[0]) % Manifests.Length];
        var serializer = Serializer.Value;
        object message;
        try
        {
            message = serializer.FromBinary(input.IsEmpty ? [] : input[1..].ToArray(), manifest);
        }
        catch (SerializationException)
        {
            return;
        }
        var written = serializer.Manifest(message);
        if (Stem(written) != Stem(manifest))
        {
            throw new ContractViolation($"{manifest} read a {message.GetType().Name}, whose manifest is {written}");
        }
        var again = serializer.FromBinary(serializer.ToBinary(message), written);
        if (again.GetType() != message.GetType())
        {
            throw new ContractViolation($"{manifest}: written and read again as {again.GetType().Name}");
        }
    }

    private static string Stem(string manifest) => manifest[..manifest.LastIndexOf('.')];

    /// <summary>The golden files of tests/Actors.Tests: one payload of every manifest, edge cases included.</summary>
    public IEnumerable<(string Name, byte[] Bytes)> Seeds(string repoRoot)
    {
        foreach (var version in new[] { "v2", "v1" })
        {
            var path = Path.Combine(repoRoot, "tests", "Actors.Tests", "Serialization", "golden", version + ".json");
            using var golden = JsonDocument.Parse(File.ReadAllBytes(path));
            foreach (var blob in golden.RootElement.GetProperty("blobs").EnumerateArray())
            {
                var index = Array.IndexOf(Manifests, blob.GetProperty("manifest").GetString());
                if (index < 0) throw new InvalidOperationException($"{path}: manifest {blob.GetProperty("manifest")} is not in the target's list");
                yield return ($"{blob.GetProperty("name").GetString()}.{version}", [(byte)index, .. blob.GetProperty("bytes").GetBytesFromBase64()]);
            }
        }
    }
}
