namespace KmsCluster.Fuzz;

/// <summary>One component under the fuzzer. <see cref="Run"/> feeds it one input and checks its contract: bad input
/// ends in the component's documented error (an exception type or a false result with a reason), which the target
/// catches; anything else escapes, and AFL records the input as a crash.</summary>
internal interface IFuzzTarget
{
    /// <summary>The name on the command line and the corpus folder's name (fuzz/corpus/NAME).</summary>
    string Name { get; }

    void Run(ReadOnlySpan<byte> input);

    /// <summary>The seed corpus: valid inputs built with the component's own writers or the repo's files.</summary>
    IEnumerable<(string Name, byte[] Bytes)> Seeds(string repoRoot);
}

/// <summary>The component broke its contract in a way that is not an exception of its own (a wrong position, a
/// round trip that changed the value). Never caught: the fuzzer records the input as a crash.</summary>
internal sealed class ContractViolation(string message) : Exception(message);
