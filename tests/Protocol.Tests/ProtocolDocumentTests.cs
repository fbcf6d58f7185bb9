using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Protocol.Tests;

/// <summary>
/// Reads docs/protocol.md and holds it to the code: every hex example must be what FrameWriter writes, and
/// every offset, byte and value in its decode table must match what the decoders read; the layout, error-code
/// and licence-state tables must agree with the examples and the enums. So the document cannot drift.
/// </summary>
public partial class ProtocolDocumentTests
{
    private static readonly Lazy<ProtocolDocument> Document = new(() => ProtocolDocument.Load(DocumentPath()));

    private static string DocumentPath([CallerFilePath] string sourceFile = "")
    {
        // The build output is normally under the checkout; with a private --artifacts-path it is not, so
        // fall back to where this source file was compiled from, then to the working directory.
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile), Directory.GetCurrentDirectory() })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "KmsCluster.sln")))
                {
                    return Path.Combine(dir.FullName, "docs", "protocol.md");
                }
            }
        }
        throw new InvalidOperationException($"no KmsCluster.sln above {AppContext.BaseDirectory}");
    }

    public static TheoryData<string> ExampleTitles => new(Document.Value.Examples.Select(e => e.Title));

    [Fact]
    public void The_document_has_an_example_of_every_message_type()
    {
        var types = Document.Value.Examples.Select(e => (MessageType)e.Bytes[3]).ToHashSet();
        Assert.Equal([MessageType.ActivationRequest, MessageType.ActivationResponse, MessageType.Error], types.Order());
        Assert.Equal(Document.Value.Examples.Count, Document.Value.Examples.Select(e => e.Title).Distinct().Count());
        Assert.Contains(Document.Value.Examples, e => e.Title == "request-example");
        Assert.Contains(Document.Value.Examples, e => e.Title == "response-example");
        Assert.Contains(Document.Value.Examples, e => e.Title == "error-example");
    }

    [Theory]
    [MemberData(nameof(ExampleTitles))]
    public void An_example_is_exactly_what_the_frame_writer_writes(string title)
    {
        var example = Document.Value.Example(title);
        var input = new ReadOnlySequence<byte>(example.Bytes);
        Assert.True(FrameReader.TryParse(input, out var consumed, out _, out var frame), $"{title} is not a complete frame");
        Assert.Equal(example.Bytes.Length, input.GetOffset(consumed));

        var output = new ArrayBufferWriter<byte>();
        if (frame.Version == ProtocolConstants.SignedVersion)
        {
            RewriteSigned(frame, output);
        }
        else
        {
            Rewrite(frame, output);
        }
        Assert.Equal(Convert.ToHexString(example.Bytes), Convert.ToHexString(output.WrittenSpan));
    }

    [Theory]
    [MemberData(nameof(ExampleTitles))]
    public void An_example_decode_table_states_the_decoded_values(string title)
    {
        var example = Document.Value.Example(title);
        var expected = DecodedFields(example.Bytes);

        Assert.Equal(expected.Select(f => f.Field), example.Rows.Select(r => r.Field));
        foreach (var (row, field) in example.Rows.Zip(expected))
        {
            Assert.True(field.Value == row.Value, $"{title}, {row.Field}: the document says \"{row.Value}\", the decoder reads \"{field.Value}\"");
        }
    }

    [Theory]
    [MemberData(nameof(ExampleTitles))]
    public void An_example_decode_table_has_the_right_offsets_and_bytes(string title)
    {
        var example = Document.Value.Example(title);
        var offset = 0;
        for (var i = 0; i < example.Rows.Count; i++)
        {
            var row = example.Rows[i];
            Assert.True(offset == row.Offset, $"{title}, {row.Field}: offset {row.Offset}, expected {offset}");
            var end = i + 1 < example.Rows.Count ? example.Rows[i + 1].Offset : example.Bytes.Length;
            var actual = example.Bytes[row.Offset..end];
            if (row.Abbreviated)
            {
                Assert.StartsWith(Convert.ToHexString(row.Bytes), Convert.ToHexString(actual));
            }
            else
            {
                Assert.True(Convert.ToHexString(row.Bytes) == Convert.ToHexString(actual),
                    $"{title}, {row.Field}: bytes {Convert.ToHexString(row.Bytes)} but the frame holds {Convert.ToHexString(actual)}");
            }
            offset = end;
        }
        Assert.Equal(example.Bytes.Length, offset);
    }

    /// <summary>Version 1 examples; the version 2 ones are held to their own tables (ProtocolDocumentTests.V2.cs).</summary>
    public static TheoryData<string> V1ExampleTitles =>
        new(Document.Value.Examples.Where(e => e.Bytes[2] == ProtocolConstants.Version).Select(e => e.Title));

    [Theory]
    [MemberData(nameof(V1ExampleTitles))]
    public void An_example_agrees_with_the_layout_tables(string title)
    {
        var example = Document.Value.Example(title);
        var envelope = Document.Value.Layout("Envelope");
        var body = Document.Value.Layout((MessageType)example.Bytes[3] switch
        {
            MessageType.ActivationRequest => "Activation request",
            MessageType.ActivationResponse => "Activation response",
            _ => "Error",
        });
        for (var i = 0; i < example.Rows.Count; i++)
        {
            var row = example.Rows[i];
            var size = (i + 1 < example.Rows.Count ? example.Rows[i + 1].Offset : example.Bytes.Length) - row.Offset;
            var isEnvelope = row.Offset < ProtocolConstants.HeaderSize;
            var layout = isEnvelope ? envelope : body;
            Assert.True(layout.TryGetValue(row.Field, out var entry), $"{title}: field {row.Field} is not in its layout table");
            Assert.Equal(isEnvelope ? row.Offset : row.Offset - ProtocolConstants.HeaderSize, entry.Offset);
            // Variable-length text is sized "*n*" in the layout table.
            Assert.True(entry.Size == size.ToString(CultureInfo.InvariantCulture) || entry.Size == "*n*",
                $"{title}, {row.Field}: layout size {entry.Size}, example size {size}");
        }
    }

    [Fact]
    public void The_layout_tables_have_no_gaps_or_overlaps()
    {
        foreach (var name in new[] { "Envelope", "Activation request", "Activation response", "Error" })
        {
            var offset = 0;
            foreach (var (field, entry) in Document.Value.Layout(name).OrderBy(e => e.Value.Offset))
            {
                Assert.True(offset == entry.Offset, $"{name}: {field} at {entry.Offset}, expected {offset}");
                if (!int.TryParse(entry.Size, CultureInfo.InvariantCulture, out var size)) break; // variable-length tail
                offset += size;
            }
        }
    }

    [Fact]
    public void The_error_code_table_matches_the_code()
    {
        var table = Document.Value.Table("Code", "Name", "Meaning", "Retryable");
        Assert.Equal(Enum.GetValues<ErrorCode>().Select(c => (int)c), table.Select(r => int.Parse(r[0], CultureInfo.InvariantCulture)));
        foreach (var row in table)
        {
            var code = (ErrorCode)ushort.Parse(row[0], CultureInfo.InvariantCulture);
            Assert.Equal(code.Name(), row[1]);
            Assert.Equal(code.IsRetryable() ? "yes" : "no", row[3]);
        }
    }

    [Fact]
    public void The_licence_state_table_matches_the_code()
    {
        var table = Document.Value.Table("Value", "Name", "Meaning");
        Assert.Equal(Enum.GetValues<LicenseState>().Select(s => (int)s), table.Select(r => int.Parse(r[0], CultureInfo.InvariantCulture)));
        foreach (var row in table)
        {
            Assert.Equal(((LicenseState)byte.Parse(row[0], CultureInfo.InvariantCulture)).Name(), row[1]);
        }
    }

    [Fact]
    public void The_limits_in_the_document_are_the_constants()
    {
        var text = Document.Value.Text;
        Assert.Contains($"**{ProtocolConstants.DefaultPort}**", text);
        Assert.Contains($"**{ProtocolConstants.MaxFrameSize} bytes**", text);
        Assert.Contains($"**{ProtocolConstants.MaxBodySize}**", text);
        Assert.Contains($"12-byte envelope", text);
        Assert.Equal(12, ProtocolConstants.HeaderSize);
        Assert.Contains($"0–{ProtocolConstants.MaxNameBytes}", text);
        Assert.Contains($"0–{ProtocolConstants.MaxErrorMessageBytes}", text);
    }

    /// <summary>Field name and value text as the document writes them, in wire order.</summary>
    private static List<(string Field, string Value)> DecodedFields(byte[] bytes)
    {
        var input = new ReadOnlySequence<byte>(bytes);
        Assert.True(FrameReader.TryParse(input, out _, out _, out var frame));
        var body = frame.Body.FirstSpan;
        var fields = new List<(string, string)>
        {
            ("magic", Encoding.ASCII.GetString(bytes, 0, 2)),
            ("version", Number(frame.Version)),
            ("type", $"{(byte)frame.Type} ({TypeName(frame.Type)})"),
            ("request-id", Number(frame.RequestId)),
            ("body-length", Number(body.Length)),
        };
        if (frame.Version == ProtocolConstants.SignedVersion)
        {
            fields.AddRange(SignedFields(frame.Type, body));
            return fields;
        }
        switch (frame.Type)
        {
            case MessageType.ActivationRequest:
                Assert.True(ActivationRequest.TryRead(body, out var request, out _));
                fields.AddRange(RequestFields(request));
                break;

            case MessageType.ActivationResponse:
                Assert.True(ActivationResponse.TryRead(body, out var response, out _));
                fields.AddRange([
                    ("cmid", response.ClientMachineId.ToString()),
                    ("host-id", response.HostId.ToString()),
                    ("host-time", Time(response.HostTime)),
                    ("current-count", Number(response.CurrentCount)),
                    ("threshold", Number(response.Threshold)),
                    ("flags", response.Activated ? "0x01 (activated)" : "0x00"),
                    ("valid-until", response.ValidUntil is { } validUntil ? Time(validUntil) : "0 = none"),
                    ("activation-interval", Number(response.ActivationIntervalMinutes)),
                    ("renewal-interval", Number(response.RenewalIntervalMinutes)),
                    ("host-name-length", Number(Encoding.UTF8.GetByteCount(response.HostName))),
                    ("host-name", response.HostName),
                ]);
                break;
            case MessageType.Error:
                Assert.True(ErrorResponse.TryRead(body, out var error, out _));
                fields.AddRange([
                    ("code", $"{(ushort)error.Code} ({error.Code.Name()})"),
                    ("retry-after", Number(error.RetryAfterMilliseconds)),
                    ("message-length", Number(Encoding.UTF8.GetByteCount(error.Message))),
                    ("message", error.Message),
                ]);
                break;
        }
        return fields;
    }

    /// <summary>Decodes a version 1 frame and writes it again.</summary>
    private static void Rewrite(in Frame frame, ArrayBufferWriter<byte> output)
    {
        switch (frame.Type)
        {
            case MessageType.ActivationRequest:
                Assert.True(ActivationRequest.TryRead(frame.Body.FirstSpan, out var request, out var error), error);
                FrameWriter.Write(output, frame.RequestId, request);
                break;
            case MessageType.ActivationResponse:
                Assert.True(ActivationResponse.TryRead(frame.Body.FirstSpan, out var response, out error), error);
                FrameWriter.Write(output, frame.RequestId, response);
                break;
            case MessageType.Error:
                Assert.True(ErrorResponse.TryRead(frame.Body.FirstSpan, out var refusal, out error), error);
                FrameWriter.Write(output, frame.RequestId, refusal);
                break;
            default:
                Assert.Fail($"message type {(byte)frame.Type}");
                break;
        }
    }

    private static List<(string Field, string Value)> RequestFields(in ActivationRequest request) =>
    [
        ("cmid", request.ClientMachineId.ToString()),
        ("application-id", request.ApplicationId.ToString()),
        ("product-id", request.ProductId.ToString()),
        ("client-time", Time(request.ClientTime)),
        ("required-count", Number(request.RequiredCount)),
        ("license-state", $"{(byte)request.LicenseState} ({request.LicenseState.Name()})"),
        ("minutes-left", Number(request.MinutesLeft)),
        ("flags", request.IsVirtualMachine ? "0x01 (virtual-machine)" : "0x00"),
        ("workstation-length", Number(Encoding.UTF8.GetByteCount(request.Workstation))),
        ("workstation", request.Workstation),
    ];

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset time) =>
        $"{time.ToUnixTimeMilliseconds()} = {time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}";

    private static string TypeName(MessageType type) => type switch
    {
        MessageType.ActivationRequest => "activation-request",
        MessageType.ActivationResponse => "activation-response",
        MessageType.Error => "error",
        _ => "unknown",
    };

    internal sealed record ExampleRow(int Offset, byte[] Bytes, bool Abbreviated, string Field, string Value);

    internal sealed record Example(string Title, byte[] Bytes, List<ExampleRow> Rows);

    internal sealed record MarkdownTable(string Heading, string[] Columns, List<string[]> Rows, int Line);

    /// <summary>The parts of docs/protocol.md the tests read: hex examples with their decode tables, and tables.</summary>
    internal sealed partial class ProtocolDocument
    {
        public required string Text { get; init; }
        public required List<Example> Examples { get; init; }
        public required List<MarkdownTable> Tables { get; init; }

        public Example Example(string title) => Examples.Single(e => e.Title == title);

        /// <summary>The rows of the one table with exactly these columns.</summary>
        public List<string[]> Table(params string[] columns) =>
            Tables.Single(t => t.Columns.SequenceEqual(columns)).Rows;

        /// <summary>A message layout table (Offset | Size | Type | Field | Meaning) under a heading starting with
        /// <paramref name="heading"/>: field → (offset, size).</summary>
        public Dictionary<string, (int Offset, string Size)> Layout(string heading) =>
            Tables.Single(t => t.Heading.StartsWith(heading, StringComparison.Ordinal) &&
                               t.Columns.SequenceEqual(["Offset", "Size", "Type", "Field", "Meaning"]))
                .Rows.Where(r => r[3] != "body")
                .ToDictionary(r => r[3], r => (int.Parse(r[0], CultureInfo.InvariantCulture), r[1]));

        public static ProtocolDocument Load(string path)
        {
            var text = File.ReadAllText(path);
            var lines = text.ReplaceLineEndings("\n").Split('\n');
            var tables = new List<MarkdownTable>();
            var blocks = new List<(string Title, byte[] Bytes, int EndLine)>();
            var heading = "";
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i];
                if (line.StartsWith('#'))
                {
                    heading = line.TrimStart('#').Trim();
                }
                else if (line.StartsWith("```", StringComparison.Ordinal))
                {
                    var start = i;
                    var hex = new StringBuilder();
                    for (i++; i < lines.Length && !lines[i].StartsWith("```", StringComparison.Ordinal); i++)
                    {
                        hex.Append(lines[i]);
                    }
                    if (HexTitle().Match(lines[start]) is { Success: true } match)
                    {
                        blocks.Add((match.Groups[1].Value, Convert.FromHexString(hex.ToString().Replace(" ", "")), i));
                    }
                }
                else if (line.StartsWith('|'))
                {
                    var start = i;
                    var rows = new List<string[]>();
                    for (; i < lines.Length && lines[i].StartsWith('|'); i++)
                    {
                        rows.Add(Cells(lines[i]));
                    }
                    i--;
                    Assert.True(rows.Count >= 2 && rows[1].All(c => c.Trim('-', ':').Length == 0), $"table at line {start + 1} has no separator row");
                    tables.Add(new MarkdownTable(heading, rows[0], rows.Skip(2).ToList(), start));
                }
            }

            var examples = new List<Example>();
            foreach (var (title, bytes, endLine) in blocks)
            {
                // The decode table is the first table after the block, before any other hex block.
                var table = tables.FirstOrDefault(t => t.Line > endLine);
                Assert.True(table is not null && !blocks.Any(b => b.EndLine > endLine && b.EndLine < table.Line),
                    $"example {title} has no decode table");
                Assert.Equal(["Offset", "Bytes", "Field", "Value", "Note"], table.Columns);
                var rows = table.Rows.Select(r =>
                {
                    var abbreviated = r[1].EndsWith('…');
                    return new ExampleRow(int.Parse(r[0], CultureInfo.InvariantCulture),
                        Convert.FromHexString(r[1].TrimEnd('…').Replace(" ", "")), abbreviated, r[2], r[3]);
                }).ToList();
                examples.Add(new Example(title, bytes, rows));
            }
            return new ProtocolDocument { Text = text, Examples = examples, Tables = tables };
        }

        /// <summary>Cells of a table row, trimmed and without code backticks.</summary>
        private static string[] Cells(string line) =>
            line.Trim().Trim('|').Split('|').Select(c => c.Replace("`", "").Trim()).ToArray();

        [GeneratedRegex("^```hex\\s+title=\"([^\"]+)\"")]
        private static partial Regex HexTitle();
    }
}
