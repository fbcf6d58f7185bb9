using KmsCluster.Domain;

namespace KmsCluster.Testing.Chaos;

/// <summary>
/// One window's durable history ordered by the journal rows' created stamps, for questions about a moment:
/// how many distinct machines and which capacity the journal supported at time t, and when a machine first and
/// last reached the journal.
/// </summary>
public sealed class DurableTimeline
{
    private readonly long[] _createdTicks;
    private readonly int[] _distinctSoFar;
    private readonly int[] _capacitySoFar;
    private readonly Dictionary<Guid, DateTimeOffset> _firstCreated = new();
    private readonly Dictionary<Guid, DateTimeOffset> _lastRecorded = new();
    private readonly JournalEvent[] _byCreated;

    public DurableTimeline(IEnumerable<JournalEvent> events)
    {
        _byCreated = events.OrderBy(e => e.Created).ThenBy(e => e.SequenceNumber).ToArray();
        _createdTicks = new long[_byCreated.Length];
        _distinctSoFar = new int[_byCreated.Length];
        _capacitySoFar = new int[_byCreated.Length];
        var highest = 0;
        for (var i = 0; i < _byCreated.Length; i++)
        {
            var e = _byCreated[i];
            _createdTicks[i] = e.Created.UtcTicks;
            highest = Math.Max(highest, e.Recorded.HighestThreshold);
            foreach (var contact in e.Recorded.Contacts)
            {
                _firstCreated.TryAdd(contact.ClientMachineId, e.Created);
                if (!_lastRecorded.TryGetValue(contact.ClientMachineId, out var last) || last < e.Recorded.RecordedAt)
                {
                    _lastRecorded[contact.ClientMachineId] = e.Recorded.RecordedAt;
                }
            }
            _distinctSoFar[i] = _firstCreated.Count;
            _capacitySoFar[i] = highest * KmsModel.StoredContactsPerThreshold;
        }
    }

    /// <summary>
    /// At <paramref name="at"/>: the distinct machines in the events created until then, the capacity those events
    /// set (twice the highest threshold), and the last such event. Machines are counted whatever their age: within a
    /// run shorter than 30 days none expires, and over a longer one the number is still an upper bound.
    /// </summary>
    public (int Distinct, int Capacity, JournalEvent? Last) At(DateTimeOffset at)
    {
        var i = LastCreatedAtOrBefore(at.UtcTicks);
        return i < 0 ? (0, 0, null) : (_distinctSoFar[i], _capacitySoFar[i], _byCreated[i]);
    }

    /// <summary>When an event holding <paramref name="machine"/> was first created, or null if none was.</summary>
    public DateTimeOffset? FirstDurable(Guid machine) => _firstCreated.TryGetValue(machine, out var at) ? at : null;

    /// <summary>The latest window time an event recorded <paramref name="machine"/> at, or null.</summary>
    public DateTimeOffset? LastRecorded(Guid machine) => _lastRecorded.TryGetValue(machine, out var at) ? at : null;

    private int LastCreatedAtOrBefore(long ticks)
    {
        int low = 0, high = _createdTicks.Length - 1, found = -1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            if (_createdTicks[middle] <= ticks)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }
        return found;
    }
}
