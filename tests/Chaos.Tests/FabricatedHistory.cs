using KmsCluster.Domain;
using KmsCluster.Testing.Chaos;

namespace KmsCluster.Chaos.Tests;

/// <summary>A history written by hand: window events as the journal would hold them, answers as the recorder would
/// write them, and reads of the final window (by default every node shows what the journal replays to).</summary>
public sealed class FabricatedHistory
{
    public static readonly DateTimeOffset Start = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    public const string WindowsId = "activation-window-26256b66aecf58438c1911e0c33ded51";
    public const string OfficeId = "activation-window-2f7492820cd15565a291c7a6835e76e7";

    private readonly List<JournalEvent> _journal = [];
    private readonly List<RequestRecord> _requests = [];
    private readonly Dictionary<string, long> _sequence = new();

    public List<WindowRead>? Reads { get; set; }

    public IReadOnlyList<JournalEvent> Journal => _journal;

    public static Guid Machine(int n) => new(n, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0]);

    public static DateTimeOffset At(double seconds) => Start.AddSeconds(seconds);

    /// <summary>A window event created at <paramref name="seconds"/> recording <paramref name="machines"/> (as new or
    /// renewed contacts), with the next sequence number unless <paramref name="sequence"/> says otherwise.</summary>
    public FabricatedHistory Event(double seconds, string writer, int[] machines, string application = "windows",
        int threshold = 25, long? sequence = null)
    {
        var persistenceId = application == "windows" ? WindowsId : OfficeId;
        var number = sequence ?? _sequence.GetValueOrDefault(persistenceId) + 1;
        _sequence[persistenceId] = Math.Max(number, _sequence.GetValueOrDefault(persistenceId));
        var contacts = machines.Select(m => new RecordedContact(Machine(m), Guid.Empty, $"ws-{m}", false, null)).ToArray();
        _journal.Add(new JournalEvent(application, persistenceId, number, writer, At(seconds),
            new ContactsRecorded(At(seconds), threshold, contacts, machines.Length, 0)));
        return this;
    }

    /// <summary>An answer to <paramref name="machine"/> that arrived at <paramref name="seconds"/>; activated as the
    /// count and threshold say unless <paramref name="activated"/> is given.</summary>
    public FabricatedHistory Answer(double seconds, int machine, int count, string application = "windows", int threshold = 25,
        bool? activated = null)
    {
        _requests.Add(new RequestRecord(_requests.Count + 1, 0, Machine(machine), application, application + "-edition", threshold,
            false, At(seconds - 0.05), At(seconds), "127.0.0.1:1688", 0, RequestOutcome.Answered, count,
            activated ?? count >= threshold, "node0", At(seconds - 0.01)));
        return this;
    }

    /// <summary>A request that got no answer: it proves nothing and is not checked.</summary>
    public FabricatedHistory Unanswered(double seconds, int machine)
    {
        _requests.Add(new RequestRecord(_requests.Count + 1, 0, Machine(machine), "windows", "windows-edition", 25, true,
            At(seconds - 3), At(seconds), "127.0.0.1:1688", 2, RequestOutcome.Unreachable, Error: "no server answered"));
        return this;
    }

    /// <summary>Every node's read of <paramref name="application"/> as the journal replays it.</summary>
    public static WindowRead ReadOf(string node, string application, IEnumerable<JournalEvent> journal)
    {
        var window = HistoryChecker.Replay(journal.Where(e => e.Application == application));
        var contacts = window.StoredContacts.Reverse().Select(c => new ReadContact(c.ClientMachineId, c.LastContact)).ToList();
        return new WindowRead(node, application, contacts.Count, window.Capacity, window.Requests, window.Activated, contacts);
    }

    public List<WindowRead> ReplayedReads() =>
    [
        .. new[] { "node0", "node1", "node2" }.SelectMany(node =>
            _journal.Select(e => e.Application).Distinct().Select(application => ReadOf(node, application, _journal))),
    ];

    public IReadOnlyList<Violation> Check() =>
        HistoryChecker.Check(new ChaosEvidence(_requests, _journal, Reads ?? ReplayedReads()));
}
