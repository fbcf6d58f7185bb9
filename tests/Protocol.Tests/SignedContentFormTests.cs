using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Tests.Support;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Tests;

/// <summary>The two version 2 forms a client checks an answer with: the signed answer content (what a leaf hash
/// covers) and the host certificate frame. Each decodes to exactly what was encoded, and each way one is broken is
/// refused with its own reason and nothing decoded.</summary>
public sealed class SignedContentFormTests : IDisposable
{
    // Offsets in the content (docs/protocol.md, "Signed answer content").
    private const int HostTimeAt = 16 + 16 + 16 + 16;
    private const int FlagsAt = HostTimeAt + 8 + 2 + 2;
    private const int KeyIdLengthAt = FlagsAt + 1 + 8 + 4 + 4;
    private const int FixedSize = KeyIdLengthAt + 1 + 1;

    private static readonly UInt128 Nonce = new(0x0123456789abcdef, 0xfedcba9876543210);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"kms-signed-forms-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private static SignedAnswerContent Content(bool activated = true, string keyId = "contoso-1", string hostName = "kms-a") =>
        new(Nonce, TestWire.Windows11Enterprise, keyId, TestWire.Response(hostName, activated));

    private static string Refusal(byte[] content)
    {
        Assert.False(SignedAnswerContent.TryRead(content, out var answer, out var error));
        Assert.Null(answer);
        return error;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Content_decodes_to_exactly_what_was_encoded(bool activated)
    {
        var content = Content(activated, hostName: "Büro-kms");
        var bytes = content.Encode();

        Assert.Equal(FixedSize + "contoso-1".Length + Encoding.UTF8.GetByteCount("Büro-kms"), bytes.Length);
        Assert.Equal(activated ? 1 : 0, bytes[FlagsAt]);
        Assert.True(SignedAnswerContent.TryRead(bytes, out var decoded, out var error));
        Assert.Equal("", error);
        Assert.Equal(content, decoded);
        Assert.Equal(activated ? TestWire.HostTime.AddDays(180) : null, decoded!.Response.ValidUntil);
    }

    [Fact]
    public void A_host_time_of_zero_is_the_unix_epoch_not_a_missing_time()
    {
        var bytes = Content().Encode();
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(HostTimeAt), 0);

        Assert.True(SignedAnswerContent.TryRead(bytes, out var decoded, out _));
        Assert.Equal(DateTimeOffset.UnixEpoch, decoded!.Response.HostTime);
    }

    [Fact]
    public void Content_the_protocol_cannot_carry_is_not_encoded()
    {
        var badKey = Assert.Throws<ArgumentException>(() => Content(keyId: "Contoso_1").Encode());
        Assert.Equal("KeyId", badKey.ParamName);
        Assert.StartsWith("\"Contoso_1\" is not a key id", badKey.Message);
        Assert.Throws<ArgumentException>(() => Content(hostName: new string('h', ProtocolConstants.MaxNameBytes + 1)).Encode());
        Assert.Equal(FixedSize + 9 + ProtocolConstants.MaxNameBytes,
            Content(hostName: new string('h', ProtocolConstants.MaxNameBytes)).Encode().Length);
    }

    [Fact]
    public void Broken_content_is_refused_with_its_reason()
    {
        var good = Content().Encode();
        const string Truncated = "signed answer content truncated or holds an out-of-range time";

        Assert.Equal(Truncated, Refusal(good[..(KeyIdLengthAt)]));
        Assert.Equal(Truncated, Refusal([]));
        var farFuture = (byte[])good.Clone();
        BinaryPrimitives.WriteInt64BigEndian(farFuture.AsSpan(HostTimeAt), long.MaxValue);
        Assert.Equal(Truncated, Refusal(farFuture));

        foreach (var flags in new byte[] { 0x02, 0x03, 0x80 })
        {
            var flagged = (byte[])good.Clone();
            flagged[FlagsAt] = flags;
            Assert.Equal($"unknown flag bits 0x{flags:x2}", Refusal(flagged));
        }

        const string BadKeyId = "the key id is not a-z, 0-9 and '-' (1 to 64 characters)";
        var upper = (byte[])good.Clone();
        upper[KeyIdLengthAt + 1] = (byte)'C';
        Assert.Equal(BadKeyId, Refusal(upper));
        var noKey = (byte[])good.Clone();
        noKey[KeyIdLengthAt] = 0;
        Assert.Equal(BadKeyId, Refusal(noKey));
        var longKey = (byte[])good.Clone();
        longKey[KeyIdLengthAt] = 200; // more bytes than are left
        Assert.Equal(BadKeyId, Refusal(longKey));

        const string BadLength = "host name length does not match the bytes left in the content";
        Assert.Equal(BadLength, Refusal([.. good, (byte)'x']));
        Assert.Equal(BadLength, Refusal(good[..^1]));
        Assert.Equal(BadLength, Refusal(good[..(KeyIdLengthAt + 1 + 9)])); // ends before the name's length

        var notUtf8 = (byte[])good.Clone();
        notUtf8[^1] = 0xff;
        Assert.Equal("host name is not valid UTF-8 text", Refusal(notUtf8));
    }

    [Fact]
    public void A_nonce_is_formatted_as_32_lower_case_hex_digits() =>
        Assert.Equal("0123456789abcdeffedcba9876543210", SignedAnswerContent.FormatNonce(Nonce));

    private HostCertificate Certificate()
    {
        var authority = LicensingAuthority.Create(Path.Combine(_directory, "authority"));
        var key = authority.Issue("contoso-1", "Windows Server 2025 volume licence", "Contoso Ltd",
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(100));
        return authority.Certify(key, TestWire.HostId, HostSigningKey.CreateEphemeral().PublicKey, DateTimeOffset.UtcNow);
    }

    private static byte[] Frame(HostCertificateMessage message)
    {
        var output = new ArrayBufferWriter<byte>();
        FrameWriter.Write(output, 9, message);
        return output.WrittenSpan.ToArray();
    }

    private static string CertificateRefusal(byte[] body)
    {
        Assert.False(HostCertificateMessage.TryRead(body, out var certificate, out var error));
        Assert.Null(certificate);
        return error;
    }

    [Fact]
    public void A_certificate_frame_carries_the_certificate_document_as_it_is()
    {
        var certificate = Certificate();
        var json = certificate.ToJson() + "\n"; // a document as a file holds it, line ends included
        var frame = Frame(new HostCertificateMessage(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(ProtocolConstants.HeaderSize + 2 + Encoding.UTF8.GetByteCount(json), frame.Length);
        Assert.Equal((ProtocolConstants.SignedVersion, (byte)MessageType.HostCertificate), (frame[2], frame[3]));
        var body = TestWire.Body(frame);
        Assert.Equal(Encoding.UTF8.GetByteCount(json), BinaryPrimitives.ReadUInt16BigEndian(body));
        Assert.True(HostCertificateMessage.TryRead(body, out var decoded, out var error));
        Assert.Equal("", error);
        Assert.Equal(certificate.ToJson(), decoded!.ToJson());
    }

    [Fact]
    public void A_certificate_document_fills_a_frame_to_the_last_byte_and_no_further()
    {
        var fits = new HostCertificateMessage(new byte[ProtocolConstants.MaxBodySize - 2]);
        Assert.Equal(ProtocolConstants.MaxFrameSize, Frame(fits).Length);

        var tooLong = new HostCertificateMessage(new byte[ProtocolConstants.MaxBodySize - 1]);
        var refused = Assert.Throws<ArgumentException>(() => Frame(tooLong));
        Assert.Equal($"a host certificate of {ProtocolConstants.MaxBodySize - 1} bytes does not fit a frame", refused.Message);
    }

    [Fact]
    public void A_broken_certificate_frame_body_is_refused_with_its_reason()
    {
        const string Broken = "host certificate body truncated, of the wrong length or not UTF-8";
        var body = TestWire.Body(Frame(HostCertificateMessage.Of(Certificate())));

        Assert.Equal(Broken, CertificateRefusal([0x00]));
        Assert.Equal(Broken, CertificateRefusal(body[..^1]));
        Assert.Equal(Broken, CertificateRefusal([.. body, (byte)' ']));
        Assert.Equal(Broken, CertificateRefusal([0x00, 0x02, 0xc3, 0x28])); // an invalid UTF-8 sequence
        Assert.StartsWith("the host's certificate", CertificateRefusal([0x00, 0x02, (byte)'{', (byte)'}']));
    }
}
