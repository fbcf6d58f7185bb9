using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.Tests;

/// <summary>--otlp-traces and --trace-sample: off unless asked for, read from flags, KMS_* variables and
/// appsettings.json like every flag, and refused with the flag's name when wrong.</summary>
public sealed class TraceOptionsTests
{
    [Fact]
    public void Traces_are_off_by_default_even_with_an_endpoint()
    {
        Assert.Null(NodeOptionsTests.Read(null, null, "--otlp-endpoint", "http://collector:4318").Otlp!.Traces);
    }

    [Fact]
    public void On_they_go_to_the_collectors_v1_traces_path_all_sampled()
    {
        var traces = NodeOptionsTests.Read(null, null, "--otlp-endpoint", "https://gateway.example/otel/", "--otlp-traces", "on").Otlp!.Traces!;
        Assert.Equal(new Uri("https://gateway.example/otel/v1/traces"), traces.Endpoint);
        Assert.Equal(1.0, traces.SampleRatio);
    }

    [Fact]
    public void A_grpc_collector_takes_traces_at_its_base_url()
    {
        var traces = NodeOptionsTests.Read(null, null,
            "--otlp-endpoint", "http://collector:4317", "--otlp-protocol", "grpc", "--otlp-traces", "on", "--trace-sample", "0.25").Otlp!.Traces!;
        Assert.Equal(new Uri("http://collector:4317"), traces.Endpoint);
        Assert.Equal(0.25, traces.SampleRatio);
    }

    [Fact]
    public void The_environment_turns_traces_on_and_sets_the_ratio()
    {
        var traces = NodeOptionsTests.Read(null, new Dictionary<string, string>
        {
            ["KMS_OTLP_ENDPOINT"] = "http://collector:4318",
            ["KMS_OTLP_TRACES"] = "on",
            ["KMS_TRACE_SAMPLE"] = "0.01",
        }).Otlp!.Traces!;
        Assert.Equal(new Uri("http://collector:4318/v1/traces"), traces.Endpoint);
        Assert.Equal(0.01, traces.SampleRatio);
    }

    [Fact]
    public void Appsettings_turn_traces_on_and_a_flag_turns_them_off_again()
    {
        const string json = """{ "Kms": { "OtlpEndpoint": "http://collector:4318", "OtlpTraces": "on", "TraceSample": "0.5" } }""";
        Assert.Equal(0.5, NodeOptionsTests.Read(json, null).Otlp!.Traces!.SampleRatio);
        Assert.Null(NodeOptionsTests.Read(json, null, "--otlp-traces", "off").Otlp!.Traces);
    }

    [Fact]
    public void Traces_without_an_endpoint_are_refused_in_one_line_naming_the_flags()
    {
        var error = Assert.Throws<NodeOptionsException>(() => NodeOptionsTests.Read(null, null, "--otlp-traces", "on"));
        Assert.StartsWith("--otlp-traces on needs --otlp-endpoint", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("--otlp-traces", "maybe", "--otlp-traces: \"maybe\"")]
    [InlineData("--trace-sample", "1.5", "--trace-sample: \"1.5\" is not a ratio from 0 to 1")]
    [InlineData("--trace-sample", "2", "--trace-sample: \"2\" is not a ratio from 0 to 1")]
    [InlineData("--trace-sample", "10%", "--trace-sample: \"10%\" is not a ratio from 0 to 1")]
    public void A_wrong_value_is_refused_with_its_flag(string flag, string value, string message)
    {
        var error = Assert.Throws<NodeOptionsException>(() =>
            NodeOptionsTests.Read(null, null, ["--otlp-endpoint", "http://collector:4318", .. flag == "--otlp-traces" ? [] : new[] { "--otlp-traces", "on" }, flag, value]));
        Assert.StartsWith(message, error.Message);
    }
}
