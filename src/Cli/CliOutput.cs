using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace KmsCluster.Cli;

/// <summary>Where one run of <c>kms</c> writes: the process console, or writers a test passes in.</summary>
internal sealed class CliOutput
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public CliOutput(TextWriter output, TextWriter error, bool outputIsTerminal)
    {
        Out = output;
        Error = error;
        Ansi = outputIsTerminal
            ? AnsiConsole.Create(new AnsiConsoleSettings())
            : AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(output),
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Enrichment = { UseDefaultEnrichers = false },
            });
        if (!outputIsTerminal)
        {
            // Redirected output has no terminal width; do not wrap tables at 80 columns.
            Ansi.Profile.Width = 240;
        }
    }

    public TextWriter Out { get; }
    public TextWriter Error { get; }

    /// <summary>Tables and markup, on <see cref="Out"/>.</summary>
    public IAnsiConsole Ansi { get; }

    public void WriteJson<T>(T value) => Out.WriteLine(JsonSerializer.Serialize(value, Json));

    public int Fail(int exitCode, string message)
    {
        Error.WriteLine($"kms: {message}");
        return exitCode;
    }
}
