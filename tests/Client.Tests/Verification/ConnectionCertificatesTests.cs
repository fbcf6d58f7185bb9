using System.Buffers;
using KmsCluster.Client.Verification;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Tests.Verification;

/// <summary>The certificates a connection keeps: decoded once per distinct frame, never mixed up between frames.</summary>
public sealed class ConnectionCertificatesTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kms-certificates-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private HostCertificate Certificate(string keyId, Guid hostId)
    {
        var authority = LicensingAuthority.Create(Path.Combine(_directory, keyId + hostId.ToString("N")));
        var key = authority.Issue(keyId, "Windows Server 2025", "Test", DateTimeOffset.UtcNow.AddDays(-1));
        return authority.Certify(key, hostId, HostSigningKey.CreateEphemeral().PublicKey, DateTimeOffset.UtcNow, null);
    }

    private static byte[] Frame(HostCertificate certificate) => Frame(HostCertificateMessage.Of(certificate));

    private static byte[] Frame(HostCertificateMessage message)
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.Write(output, 1, message);
        return output.WrittenSpan.ToArray();
    }

    private static HostCertificate Kept(ConnectionCertificates certificates, byte[] bytes, string keyId)
    {
        Assert.True(FrameReader.TryParse(new ReadOnlySequence<byte>(bytes), out _, out _, out var frame));
        Assert.True(certificates.TryKeep(frame));
        var answer = new Connection.ActivationResult() with
        {
            Signed = new SignedAnswer(0, new SignedAnswerContent(0, Guid.Empty, keyId,
                new ActivationResponse(Guid.Empty, Guid.Empty, "h", DateTimeOffset.UtcNow, 0, 5, false, null, 120, 10080)), default, null),
        };
        return certificates.Complete(answer, 0).Signed!.Certificate!;
    }

    [Fact]
    public void The_same_frame_on_another_connection_gives_the_same_certificate_and_other_frames_their_own()
    {
        var first = Certificate("key-a", Guid.NewGuid());
        var second = Certificate("key-a", Guid.NewGuid()); // same key id, another host and authority
        var again = Kept(new ConnectionCertificates(), Frame(first), "key-a");
        Assert.Equal(first.ToJson(), again.ToJson());
        Assert.Same(again, Kept(new ConnectionCertificates(), Frame(first), "key-a"));
        var other = Kept(new ConnectionCertificates(), Frame(second), "key-a");
        Assert.Equal(second.ToJson(), other.ToJson());
        Assert.NotEqual(first.HostId, other.HostId);
    }

    [Fact]
    public void A_frame_that_differs_in_one_byte_from_a_known_one_is_decoded_afresh()
    {
        var certificate = Certificate("key-b", Guid.NewGuid());
        var known = Frame(certificate);
        Kept(new ConnectionCertificates(), known, "key-b");
        var json = HostCertificateMessage.Of(certificate).Json.ToArray();
        var at = Array.IndexOf(json, (byte)'}');
        json[at] = (byte)']'; // no longer a JSON document
        var broken = Frame(new HostCertificateMessage(json));
        Assert.True(FrameReader.TryParse(new ReadOnlySequence<byte>(broken), out _, out _, out var frame));
        Assert.Throws<FrameException>(() => new ConnectionCertificates().TryKeep(frame));
    }
}
