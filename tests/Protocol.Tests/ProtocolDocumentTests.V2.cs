using System.Buffers;
using System.Globalization;
using System.Text.RegularExpressions;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Signing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Tests;

/// <summary>The version 2 examples of docs/protocol.md: decoded, written again, held to the version 2 layout
/// tables, and the signed one verified with the example host key the document gives.</summary>
public partial class ProtocolDocumentTests
{
    public static TheoryData<string> V2ExampleTitles =>
        new(Document.Value.Examples.Where(e => e.Bytes[2] == ProtocolConstants.SignedVersion).Select(e => e.Title));

    [Fact]
    public void The_document_has_a_v2_request_and_a_signed_v2_response_to_it()
    {
        var request = Body(Document.Value.Example("v2-request-example"));
        var response = Body(Document.Value.Example("v2-response-example"));
        Assert.True(SignedActivationRequest.TryRead(request, out var asked, out var error), error);
        Assert.True(SignedActivationResponse.TryRead(response, out _, out var answered, out error), error);
        Assert.Equal(asked.Nonce, answered!.Nonce);
        Assert.Equal(asked.Request.ClientMachineId, answered.Response.ClientMachineId);
        Assert.Equal(asked.Request.ProductId, answered.ProductId);
    }

    [Fact]
    public void The_signed_example_verifies_with_the_example_host_key_and_fails_when_any_byte_of_its_leaf_changes()
    {
        var body = Body(Document.Value.Example("v2-response-example"));
        Assert.Equal("valid", SignatureCheck(body));
        Assert.Equal("a41d14ee7b655055ccaaad3083806b3f2c158ebc2904797f77ff73bbbda51ca6", Convert.ToHexStringLower(Root(body)!));
        for (var offset = 2; offset < 2 + 105; offset += 13)
        {
            var tampered = body.ToArray();
            tampered[offset] ^= 0x01;
            Assert.Equal("INVALID", SignatureCheck(tampered));
        }
    }

    [Theory]
    [MemberData(nameof(V2ExampleTitles))]
    public void A_v2_example_agrees_with_the_v2_layout_tables(string title)
    {
        var example = Document.Value.Example(title);
        var isRequest = (MessageType)example.Bytes[3] == MessageType.ActivationRequest;
        var envelope = LayoutText("Envelope");
        var rows = example.Rows;
        var contentLength = isRequest ? 0 : (example.Bytes[12] << 8) | example.Bytes[13];
        var pathLength = isRequest ? 0 : example.Bytes[12 + 2 + contentLength + 8];
        var keyIdLength = isRequest ? 0 : example.Bytes[12 + 2 + 93];
        var lengths = new Dictionary<string, int> { ["c"] = contentLength, ["k"] = pathLength, ["m"] = keyIdLength };
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var size = (i + 1 < rows.Count ? rows[i + 1].Offset : example.Bytes.Length) - row.Offset;
            var bodyOffset = row.Offset - ProtocolConstants.HeaderSize;
            // Which table describes the field, and where that table's offset 0 is in the body.
            var (table, start) = row.Offset < ProtocolConstants.HeaderSize ? (envelope, -ProtocolConstants.HeaderSize)
                : isRequest ? (bodyOffset < SignedActivationRequest.NonceSize ? (LayoutText("V2 activation request"), 0)
                    : (LayoutText("Activation request"), SignedActivationRequest.NonceSize))
                : bodyOffset >= 2 && bodyOffset < 2 + contentLength ? (LayoutText("V2 signed answer content"), 2)
                : (LayoutText("V2 activation response"), 0);
            Assert.True(table.TryGetValue(row.Field, out var entry), $"{title}: field {row.Field} is not in its layout table");
            Assert.Equal(bodyOffset - start, Evaluate(entry.Offset, lengths));
            Assert.True(entry.Size is "*n*" or "*h*" || Evaluate(entry.Size, lengths) == size,
                $"{title}, {row.Field}: layout size {entry.Size}, example size {size}");
        }
    }

    /// <summary>A layout table under a heading starting with <paramref name="heading"/>: field → (offset, size), both
    /// as written (version 2 tables name *c* and *k*).</summary>
    private static Dictionary<string, (string Offset, string Size)> LayoutText(string heading) =>
        Document.Value.Tables.Single(t => t.Heading.StartsWith(heading, StringComparison.Ordinal) &&
                                          t.Columns.SequenceEqual(["Offset", "Size", "Type", "Field", "Meaning"]))
            .Rows.ToDictionary(r => r[3], r => (r[0], r[1]));

    /// <summary>A layout offset or size such as <c>11 + *c* + 32 *k*</c>, with the example's lengths for the
    /// letters (content c, path k, key id m).</summary>
    private static int Evaluate(string expression, Dictionary<string, int> lengths) =>
        expression.Replace("*", "").Split('+').Sum(term => Term().Match(term.Trim()) is { Success: true } m
            ? (m.Groups[1].Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 1) *
              (m.Groups[2].Success ? lengths[m.Groups[2].Value] : 1)
            : throw new FormatException($"layout expression {expression}"));

    [GeneratedRegex(@"^(\d+)?\s*([ckm])?$")]
    private static partial Regex Term();

    private static ReadOnlySpan<byte> Body(Example example) => example.Bytes.AsSpan(ProtocolConstants.HeaderSize);

    /// <summary>Decodes a version 2 frame and writes it again.</summary>
    private static void RewriteSigned(in Frame frame, ArrayBufferWriter<byte> output)
    {
        var body = frame.Body.FirstSpan;
        if (frame.Type == MessageType.ActivationRequest)
        {
            Assert.True(SignedActivationRequest.TryRead(body, out var request, out var error), error);
            FrameWriter.Write(output, frame.RequestId, request);
        }
        else
        {
            Assert.Equal(MessageType.ActivationResponse, frame.Type);
            Assert.True(SignedActivationResponse.TryRead(body, out var response, out _, out var error), error);
            FrameWriter.Write(output, frame.RequestId, response);
        }
    }

    private static List<(string Field, string Value)> SignedFields(MessageType type, ReadOnlySpan<byte> body)
    {
        if (type == MessageType.ActivationRequest)
        {
            Assert.True(SignedActivationRequest.TryRead(body, out var request, out _));
            return [("nonce", Nonce(request.Nonce)), .. RequestFields(request.Request)];
        }
        Assert.True(SignedActivationResponse.TryRead(body, out var signed, out var content, out _));
        var response = content!.Response;
        return
        [
            ("content-length", Number(signed.Content.Length)),
            ("nonce", Nonce(content.Nonce)),
            ("cmid", response.ClientMachineId.ToString()),
            ("product-id", content.ProductId.ToString()),
            ("host-id", response.HostId.ToString()),
            ("host-time", Time(response.HostTime)),
            ("current-count", Number(response.CurrentCount)),
            ("threshold", Number(response.Threshold)),
            ("flags", response.Activated ? "0x01 (activated)" : "0x00"),
            ("valid-until", response.ValidUntil is { } validUntil ? Time(validUntil) : "0 = none"),
            ("activation-interval", Number(response.ActivationIntervalMinutes)),
            ("renewal-interval", Number(response.RenewalIntervalMinutes)),
            ("key-id-length", Number(content.KeyId.Length)),
            ("key-id", content.KeyId),
            ("host-name-length", Number(System.Text.Encoding.UTF8.GetByteCount(response.HostName))),
            ("host-name", response.HostName),
            ("leaf-index", Number(signed.LeafIndex)),
            ("leaf-count", Number(signed.LeafCount)),
            ("path-length", Number(signed.Path.Length / MerkleTree.HashSize)),
            ("path", Convert.ToHexStringLower(signed.Path.Span)),
            ("signature", $"{SignatureCheck(body).ToLowerInvariant()} for the root {Convert.ToHexStringLower(Root(body) ?? [])}"),
        ];
    }

    private static string Nonce(UInt128 nonce) => nonce.ToString("x32", CultureInfo.InvariantCulture);

    private static byte[]? Root(ReadOnlySpan<byte> body)
    {
        if (!SignedActivationResponse.TryRead(body, out var signed, out _, out _)) return null;
        return MerkleTree.RootFrom(MerkleTree.LeafHash(signed.Content.Span), signed.LeafIndex, signed.LeafCount, signed.Path.Span);
    }

    /// <summary>"valid" when the body's signature is the example host's over the root its leaf and path lead to.</summary>
    private static string SignatureCheck(ReadOnlySpan<byte> body)
    {
        var key = Convert.FromBase64String(ExampleHostKey().Match(Document.Value.Text).Groups[1].Value);
        return SignedActivationResponse.TryRead(body, out var signed, out _, out _) && Root(body) is { } root &&
               HostSigningKey.Verify(key, SignedActivationResponse.SignedMessage(root), signed.Signature.Span)
            ? "valid"
            : "INVALID";
    }

    [GeneratedRegex(@"public key \(SubjectPublicKeyInfo, base64\):\s*`([A-Za-z0-9+/=]+)`")]
    private static partial Regex ExampleHostKey();
}
