using KmsCluster.Domain;
using Microsoft.Extensions.Time.Testing;
using static KmsCluster.Domain.Tests.TestContacts;

namespace KmsCluster.Domain.Tests;

public sealed class ContactWindowTests
{
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly ContactWindow _window = new();

    private DateTimeOffset Now => _clock.GetUtcNow();

    /// <summary>One contact per batch, a minute apart: exactly how a real KMS host sees its clients.</summary>
    private int Contact(ContactRequest contact)
    {
        _clock.Advance(TimeSpan.FromMinutes(1));
        return _window.Record(Now, contact).Counts.Single();
    }

    [Fact]
    public void Twenty_four_client_machines_are_not_activated_and_the_twenty_fifth_is()
    {
        for (var machine = 1; machine <= 25; machine++)
        {
            var count = Contact(Client(machine));
            var decision = ActivationPolicy.Decide(count, ClientThreshold, Now);

            Assert.Equal(machine, count);
            Assert.Equal(machine == 25, decision.Activated);
        }
        Assert.Equal(25, _window.CountAt(Now));
    }

    [Fact]
    public void On_a_fresh_window_four_servers_are_not_activated_and_the_fifth_is()
    {
        var activated = Enumerable.Range(1, 5)
            .Select(machine => ActivationPolicy.Decide(Contact(Server(machine)), ServerThreshold, Now).Activated)
            .ToArray();

        Assert.Equal([false, false, false, false, true], activated);
    }

    [Fact]
    public void A_machine_that_asks_ten_times_counts_once()
    {
        var counts = Enumerable.Range(0, 10).Select(_ => Contact(Client(7))).ToArray();
        var inOneBatch = _window.Record(Now, Enumerable.Repeat(Client(7), 10).ToArray()).Counts;

        Assert.All(counts, count => Assert.Equal(1, count));
        Assert.All(inOneBatch, count => Assert.Equal(1, count));
        Assert.Single(_window.StoredContacts);
        Assert.Equal(20, _window.Requests);
    }

    [Fact]
    public void A_contact_exactly_thirty_days_old_no_longer_counts_but_one_a_millisecond_younger_does()
    {
        _window.Record(Now, Client(1));
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        _window.Record(Now, Client(2));

        _clock.Advance(TimeSpan.FromDays(30) - TimeSpan.FromMilliseconds(1));

        // Machine 1 is exactly 30 days old now, machine 2 a millisecond younger.
        Assert.Equal([Machine(2)], _window.ContactsAt(Now).Select(c => c.ClientMachineId));
        Assert.Equal(1, _window.CountAt(Now));
        // Expired contacts stay stored until the next batch...
        Assert.Equal([Machine(1), Machine(2)], _window.StoredMachines());

        var count = _window.Record(Now, Client(3)).Counts.Single();

        // ...which drops them: machine 2 and the newcomer count, machine 1 is gone.
        Assert.Equal(2, count);
        Assert.Equal([Machine(2), Machine(3)], _window.StoredMachines());

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, _window.CountAt(Now));
    }

    [Fact]
    public void A_machine_whose_contact_expired_counts_as_new_when_it_comes_back()
    {
        _window.Record(Now, Client(1));
        _window.Record(Now, Client(2));
        _clock.Advance(TimeSpan.FromDays(31));

        var count = _window.Record(Now, Client(1)).Counts.Single();

        Assert.Equal(1, count);
        Assert.Equal([Machine(1)], _window.StoredMachines());
        Assert.Equal(Now, _window.StoredContacts.Single().LastContact);
    }

    [Fact]
    public void The_fifty_first_distinct_client_evicts_the_oldest_and_the_count_stays_at_fifty()
    {
        var counts = Enumerable.Range(1, 51).Select(machine => Contact(Client(machine))).ToArray();

        Assert.Equal(Enumerable.Range(1, 50).Append(50), counts);
        Assert.Equal(50, _window.StoredContacts.Count());
        Assert.DoesNotContain(Machine(1), _window.StoredMachines());
        Assert.Equal(Machine(2), _window.StoredMachines()[0]);
        Assert.Equal(50, _window.CountAt(Now));
        Assert.Equal(50, _window.Capacity);
    }

    [Fact]
    public void While_only_servers_ask_the_window_keeps_ten_and_a_client_raises_it_to_fifty()
    {
        var serverCounts = Enumerable.Range(1, 11).Select(machine => Contact(Server(machine))).ToArray();

        Assert.Equal(10, _window.Capacity);
        Assert.Equal(10, serverCounts[^1]);
        Assert.Equal(10, _window.StoredContacts.Count());
        Assert.DoesNotContain(Machine(1), _window.StoredMachines());

        var clientCount = Contact(Client(100));

        Assert.Equal(50, _window.Capacity);
        Assert.Equal(11, clientCount);

        // With room for 50, further servers are kept instead of evicting.
        var laterServerCounts = Enumerable.Range(12, 39).Select(machine => Contact(Server(machine))).ToArray();
        Assert.Equal(Enumerable.Range(12, 39), laterServerCounts);
        Assert.Contains(Machine(2), _window.StoredMachines());
    }

    [Fact]
    public void Office_contacts_alone_also_keep_the_window_at_ten()
    {
        var counts = Enumerable.Range(1, 12).Select(machine => Contact(Office(machine))).ToArray();

        Assert.Equal(10, counts.Max());
        Assert.Equal(10, _window.Capacity);
        Assert.Equal(Enumerable.Range(3, 10).Select(Machine), _window.StoredMachines());
    }

    [Fact]
    public void In_one_batch_a_client_raises_the_capacity_before_the_first_contact()
    {
        for (var machine = 1; machine <= 10; machine++) Contact(Server(machine));

        // Documented batch semantic: the servers ahead of the client already see room for 50.
        var counts = _window.Record(Now, Server(11), Server(12), Client(13)).Counts;

        Assert.Equal([11, 12, 13], counts);
        Assert.Equal(13, _window.StoredContacts.Count());
    }

    [Fact]
    public void A_machine_that_contacts_again_becomes_newest_and_survives_the_next_eviction()
    {
        for (var machine = 1; machine <= 50; machine++) Contact(Client(machine));

        Contact(Client(1));
        Contact(Client(51));

        var stored = _window.StoredMachines();
        Assert.Contains(Machine(1), stored);
        Assert.DoesNotContain(Machine(2), stored);
        Assert.Equal([Machine(1), Machine(51)], stored[^2..]);
    }

    [Fact]
    public void A_machine_id_seen_under_two_workstation_names_is_flagged_as_a_cloned_image()
    {
        Contact(Client(1, "PC-A"));
        Contact(Client(1, "PC-A"));
        Assert.Null(_window.StoredContacts.Single().OtherWorkstation);

        Contact(Client(1, "PC-B"));
        var stored = _window.StoredContacts.Single();
        Assert.Equal("PC-B", stored.Workstation);
        Assert.Equal("PC-A", stored.OtherWorkstation);

        // The flag stays while the clone keeps using its own name.
        Contact(Client(1, "PC-B"));
        Assert.Equal("PC-A", _window.StoredContacts.Single().OtherWorkstation);
        Assert.Equal(1, _window.CountAt(Now));
    }

    [Fact]
    public void Two_names_for_one_machine_id_within_one_batch_are_flagged_too()
    {
        _window.Record(Now, Client(1, "PC-A"), Client(2), Client(1, "PC-B"));

        var clone = _window.StoredContacts.Single(c => c.ClientMachineId == Machine(1));
        Assert.Equal("PC-B", clone.Workstation);
        Assert.Equal("PC-A", clone.OtherWorkstation);
    }

    [Fact]
    public void The_window_clock_never_runs_backwards()
    {
        _window.Record(Now, Client(1));
        var recordedAt = Now;

        var decision = _window.Decide([Client(2)], Now - TimeSpan.FromHours(3));
        _window.Apply(decision.Event);

        Assert.Equal(recordedAt, decision.Event.RecordedAt);
        Assert.Equal(recordedAt, _window.LastRecordedAt);
        Assert.All(_window.StoredContacts, c => Assert.Equal(recordedAt, c.LastContact));
    }

    [Fact]
    public void Decide_does_not_change_the_window()
    {
        _window.Record(Now, Server(1));
        var before = _window.ToSnapshot();

        _window.Decide([Client(2), Client(3)], Now + TimeSpan.FromDays(40));

        var after = _window.ToSnapshot();
        Assert.Equal(before.Contacts, after.Contacts);
        Assert.Equal((before.HighestThreshold, before.Requests, before.Activated, before.LastRecordedAt),
            (after.HighestThreshold, after.Requests, after.Activated, after.LastRecordedAt));
    }

    [Fact]
    public void Requests_and_activations_are_counted_per_contact()
    {
        var first = _window.Record(Now, Server(1), Server(2), Server(3), Server(4), Server(5));
        var second = _window.Record(Now, Server(6), Server(6), Client(7));

        Assert.Equal([1, 2, 3, 4, 5], first.Counts);
        Assert.Equal((5, 1), (first.Event.Requests, first.Event.Activated));
        // Server 6 twice (6, 6: activated), client 7 at 7 of 25 (not activated).
        Assert.Equal([6, 6, 7], second.Counts);
        Assert.Equal((3, 2), (second.Event.Requests, second.Event.Activated));
        Assert.Equal(8, _window.Requests);
        Assert.Equal(3, _window.Activated);
    }

    [Fact]
    public void An_activation_granted_now_is_valid_for_180_days_from_the_recording_time()
    {
        for (var machine = 1; machine < 5; machine++) Contact(Server(machine));
        _clock.Advance(TimeSpan.FromHours(2));
        var decision = _window.Record(Now, Server(5));

        var activation = ActivationPolicy.Decide(decision.Counts[0], ServerThreshold, decision.Event.RecordedAt);

        Assert.True(activation.Activated);
        Assert.Equal(Now + TimeSpan.FromDays(180), activation.ValidUntil);

        // Walk the 180 days: the contacts that granted it long expired, the validity is what the client kept.
        _clock.Advance(TimeSpan.FromDays(180));
        Assert.Equal(Now, activation.ValidUntil);
        Assert.Equal(0, _window.CountAt(Now));
    }

    [Fact]
    public void A_snapshot_restores_an_equal_window()
    {
        for (var machine = 1; machine <= 12; machine++) Contact(Server(machine));
        Contact(Client(1, "other-name"));

        var restored = ContactWindow.FromSnapshot(_window.ToSnapshot());

        Assert.Equal(_window.StoredContacts, restored.StoredContacts);
        Assert.Equal(_window.HighestThreshold, restored.HighestThreshold);
        Assert.Equal(_window.Requests, restored.Requests);
        Assert.Equal(_window.Activated, restored.Activated);
        Assert.Equal(_window.LastRecordedAt, restored.LastRecordedAt);
        Assert.Equal(_window.CountAt(Now), restored.CountAt(Now));
    }
}
