using KmsCluster.Actors.Gateway;
using KmsCluster.Domain;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Actors.Tests;

internal abstract record Outcome
{
    public sealed record Recorded(DateTimeOffset At, int Count) : Outcome;

    public sealed record Failed(ErrorCode Code, string Message) : Outcome;
}

/// <summary>Captures the gateway's single call; counts calls so a second one shows up.</summary>
internal sealed class Submission(Guid applicationId, ContactRequest contact) : ContactSubmission(applicationId, contact)
{
    private readonly TaskCompletionSource<Outcome> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _calls;

    public Task<Outcome> Result => _result.Task;

    public int Calls => Volatile.Read(ref _calls);

    public override void Recorded(DateTimeOffset recordedAt, int count) => Complete(new Outcome.Recorded(recordedAt, count));

    public override void Failed(ErrorCode code, string message) => Complete(new Outcome.Failed(code, message));

    private void Complete(Outcome outcome)
    {
        Interlocked.Increment(ref _calls);
        _result.TrySetResult(outcome);
    }
}
