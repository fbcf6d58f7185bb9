namespace KmsCluster.Domain;

/// <summary>
/// The contact window of one application: the unique machines that contacted the host in the last 30 days,
/// at most twice the highest threshold asked for, newest kept. Pure state, no Akka: <see cref="Decide"/>
/// works out a batch without changing anything, <see cref="Apply"/> is the only way state changes, so the
/// live window and a window recovered from its events are the same by construction.
/// </summary>
public sealed class ContactWindow
{
    // Oldest first. Contacts enter at the end with the newest time, so the list is also sorted by time.
    private readonly LinkedList<StoredContact> _byAge = new();
    private readonly Dictionary<Guid, LinkedListNode<StoredContact>> _byMachine = new();

    // Scratch space of Decide, which leaves no trace in it: the machines of the batch being decided.
    private readonly Dictionary<Guid, BatchMachine> _batchMachines = new();
    private const int ReusedBatchSize = 16_384;

    /// <summary>The highest threshold any client of this window has asked for (0 before the first contact).</summary>
    public int HighestThreshold { get; private set; }

    /// <summary>How many contacts the window keeps: twice <see cref="HighestThreshold"/>.</summary>
    public int Capacity => HighestThreshold * KmsModel.StoredContactsPerThreshold;

    /// <summary>Requests answered since the window was created.</summary>
    public long Requests { get; private set; }

    /// <summary>Requests answered "activated" since the window was created.</summary>
    public long Activated { get; private set; }

    /// <summary>Time of the last batch; the window's clock never runs backwards past it.</summary>
    public DateTimeOffset? LastRecordedAt { get; private set; }

    /// <summary>All stored contacts, oldest first, expired ones included until the next batch drops them.</summary>
    public IEnumerable<StoredContact> StoredContacts => _byAge;

    /// <summary>The count a client would see at <paramref name="now"/>: stored contacts younger than 30 days.</summary>
    public int CountAt(DateTimeOffset now) => ContactsAt(now).Count();

    /// <summary>The contacts that count at <paramref name="now"/>, newest first.</summary>
    public IEnumerable<StoredContact> ContactsAt(DateTimeOffset now)
    {
        var cutoff = now - KmsModel.ContactLifetime;
        for (var node = _byAge.Last; node is not null && node.Value.LastContact > cutoff; node = node.Previous)
        {
            yield return node.Value;
        }
    }

    /// <summary>The promise the window makes at <paramref name="now"/> when it is full (every place taken by a
    /// contact younger than 30 days), else null.</summary>
    public FullWindow? FullAt(DateTimeOffset now)
    {
        // Unlike Decide, no clamp to LastRecordedAt: Apply keeps no contact older than LastRecordedAt - 30 days,
        // so at an earlier now the oldest counts all the same, and the answer does not depend on now otherwise.
        // Stored contacts never exceed the capacity, so full means every place is taken and the oldest still counts.
        if (Capacity == 0 || _byAge.Count < Capacity || _byAge.First!.Value.LastContact <= now - KmsModel.ContactLifetime)
        {
            return null;
        }
        return new FullWindow(Capacity, HighestThreshold, _byAge.First.Value.LastContact + KmsModel.ContactLifetime);
    }

    /// <summary>
    /// Works out a batch of contacts arriving together at <paramref name="now"/>, in order, without changing
    /// the window. Each contact is answered with the number of unique machines counting once it is added,
    /// itself included. The batch raises the capacity before its first contact, so the contacts that survive
    /// it are exactly the newest ones and the event needs to carry only those.
    /// </summary>
    public BatchDecision Decide(IReadOnlyList<ContactRequest> batch, DateTimeOffset now)
    {
        if (LastRecordedAt is { } last && now < last)
        {
            now = last;
        }
        var highest = HighestThreshold;
        foreach (var contact in batch)
        {
            highest = Math.Max(highest, contact.Threshold);
        }
        var capacity = highest * KmsModel.StoredContactsPerThreshold;
        var cutoff = now - KmsModel.ContactLifetime;
        var countingBefore = CountAt(now);

        var counts = new int[batch.Count];
        // Full windows decide a batch every flush interval: reuse one dictionary for those, not for a rare huge batch.
        // Stryker disable once Conditional,Equality : which dictionary holds the scratch is a matter of allocations only; both start empty
        var machines = batch.Count <= ReusedBatchSize ? _batchMachines : new Dictionary<Guid, BatchMachine>(batch.Count);
        machines.Clear();
        var newMachines = 0;
        var activated = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            var contact = batch[i];
            if (machines.TryGetValue(contact.ClientMachineId, out var seen))
            {
                var other = seen.Workstation != contact.Workstation ? seen.Workstation : seen.OtherWorkstation;
                machines[contact.ClientMachineId] = new BatchMachine(i, contact.Workstation, other);
            }
            else
            {
                if (!(_byMachine.TryGetValue(contact.ClientMachineId, out var stored) && stored.Value.LastContact > cutoff))
                {
                    newMachines++;
                }
                machines.Add(contact.ClientMachineId, new BatchMachine(i, contact.Workstation, null));
            }
            counts[i] = Math.Min(capacity, countingBefore + newMachines);
            if (counts[i] >= contact.Threshold)
            {
                activated++;
            }
        }

        // The survivors: each machine's last contact of the batch, newest `capacity` of them, oldest first; found
        // from the batch's end, so a batch far larger than the capacity costs no sort.
        var recorded = new RecordedContact[Math.Min(capacity, machines.Count)];
        for (int i = batch.Count - 1, next = recorded.Length; next > 0; i--)
        {
            var contact = batch[i];
            var machine = machines[contact.ClientMachineId];
            if (machine.LastIndex == i)
            {
                recorded[--next] = new RecordedContact(contact.ClientMachineId, contact.ProductId, contact.Workstation,
                    contact.IsVirtualMachine, machine.OtherWorkstation);
            }
        }
        return new BatchDecision(new ContactsRecorded(now, highest, recorded, batch.Count, activated), counts);
    }

    /// <summary>Applies a recorded batch: drops expired contacts, stores the batch's contacts as the newest,
    /// and drops the oldest beyond capacity.</summary>
    public void Apply(ContactsRecorded recorded)
    {
        HighestThreshold = Math.Max(HighestThreshold, recorded.HighestThreshold);
        var cutoff = recorded.RecordedAt - KmsModel.ContactLifetime;
        while (_byAge.First is { } oldest && oldest.Value.LastContact <= cutoff)
        {
            Remove(oldest);
        }
        foreach (var contact in recorded.Contacts)
        {
            string? other = contact.OtherWorkstation;
            if (_byMachine.TryGetValue(contact.ClientMachineId, out var previous))
            {
                other ??= previous.Value.Workstation != contact.Workstation
                    ? previous.Value.Workstation
                    : previous.Value.OtherWorkstation;
                Remove(previous);
            }
            Add(new StoredContact(contact.ClientMachineId, contact.ProductId, contact.Workstation,
                contact.IsVirtualMachine, recorded.RecordedAt, other));
        }
        while (_byAge.Count > Capacity)
        {
            Remove(_byAge.First!);
        }
        Requests += recorded.Requests;
        Activated += recorded.Activated;
        LastRecordedAt = recorded.RecordedAt;
    }

    public WindowSnapshot ToSnapshot() =>
        new(HighestThreshold, _byAge.ToArray(), Requests, Activated, LastRecordedAt);

    public static ContactWindow FromSnapshot(WindowSnapshot snapshot)
    {
        var window = new ContactWindow
        {
            HighestThreshold = snapshot.HighestThreshold,
            Requests = snapshot.Requests,
            Activated = snapshot.Activated,
            LastRecordedAt = snapshot.LastRecordedAt,
        };
        foreach (var contact in snapshot.Contacts)
        {
            window.Add(contact);
        }
        return window;
    }

    private void Add(StoredContact contact) =>
        _byMachine[contact.ClientMachineId] = _byAge.AddLast(contact);

    private void Remove(LinkedListNode<StoredContact> node)
    {
        _byMachine.Remove(node.Value.ClientMachineId);
        _byAge.Remove(node);
    }

    private readonly record struct BatchMachine(int LastIndex, string Workstation, string? OtherWorkstation);
}
