using System.Text.Json;
using System.Text.Json.Serialization;

namespace KmsCluster.Client.Cli;

internal static class CliOutput
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Json));

    public static int Fail(int exitCode, string message)
    {
        Console.Error.WriteLine($"kms: {message}");
        return exitCode;
    }
}
