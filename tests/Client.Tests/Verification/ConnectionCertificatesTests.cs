using System.Buffers;
using KmsCluster.Client.Verification;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Tests.Verification;

/// <summary>The certificates a connection keeps: decoded once per distinct frame, never mixed up between frames.</summary>
public sealed class ConnectionCertificatesTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "kms-certificates-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

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
    [Fact]
    public void A_certificate_frame_that_does_not_decode_is_refused_as_malformed_with_its_request_id()
    {
        var broken = new byte[] { (byte)'{' };
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.Write(output, 77, new HostCertificateMessage(broken));
        Assert.True(FrameReader.TryParse(new ReadOnlySequence<byte>(output.WrittenSpan.ToArray()), out _, out _, out var frame));

        var refused = Assert.Throws<FrameException>(() => new ConnectionCertificates().TryKeep(frame));

        Assert.Equal(ErrorCode.MalformedRequest, refused.Code);
        Assert.Equal(77u, refused.RequestId);
        Assert.Equal("undecodable host certificate frame", refused.Message);
    }

    [Fact]
    public void The_process_keeps_the_last_sixteen_certificate_frames_and_decodes_an_older_one_afresh()
    {
        // Seventeen frames of one certificate that differ only in the whitespace after its JSON: each is a frame of
        // its own to the cache, and each decodes to the same certificate.
        var certificate = Certificate("key-c", Guid.NewGuid());
        var json = HostCertificateMessage.Of(certificate).Json.ToArray();
        var frames = Enumerable.Range(0, 17)
            .Select(spaces => Frame(new HostCertificateMessage(json.Concat(Enumerable.Repeat((byte)' ', spaces)).ToArray())))
            .ToArray();
        var first = Kept(new ConnectionCertificates(), frames[0], "key-c");
        Assert.Same(first, Kept(new ConnectionCertificates(), frames[0], "key-c"));

        foreach (var frame in frames.Skip(1))
        {
            Assert.Equal(certificate.ToJson(), Kept(new ConnectionCertificates(), frame, "key-c").ToJson());
        }

        // Sixteen newer frames pushed the first out: it is decoded again, to an equal certificate.
        var again = Kept(new ConnectionCertificates(), frames[0], "key-c");
        Assert.NotSame(first, again);
        Assert.Equal(first.ToJson(), again.ToJson());
    }
}
