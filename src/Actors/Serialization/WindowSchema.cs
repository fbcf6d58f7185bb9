using Google.Protobuf;
using Google.Protobuf.Collections;
using static KmsCluster.Actors.Serialization.Protos.ContactIds;
using KmsCluster.Domain;
using static KmsCluster.Actors.Serialization.SchemaValues;
using static KmsCluster.Actors.Windows.WindowProtocol;
using P = KmsCluster.Actors.Serialization.Protos;

namespace KmsCluster.Actors.Serialization;

/// <summary>The activation-window protocol in its current format (Protos/window.proto): manifests, and the mapping
/// between the domain's records and the generated messages.</summary>
internal static class WindowSchema
{
    private const string RecordContactsManifest = "record-contacts.v2";
    private const string ContactsAcceptedManifest = "contacts-accepted.v2";
    private const string ContactsRejectedManifest = "contacts-rejected.v2";
    private const string WindowGrantManifest = "window-grant.v2";
    private const string RevokeGrantsManifest = "revoke-grants.v2";
    private const string GrantsRevokedManifest = "grants-revoked.v2";
    private const string GetWindowManifest = "get-window.v2";
    private const string WindowViewManifest = "window-view.v2";
    private const string ContactsRecordedManifest = "contacts-recorded.v2";
    private const string WindowSnapshotManifest = "window-snapshot.v2";

    public static string? Manifest(object o) => o switch
    {
        RecordContacts => RecordContactsManifest,
        ContactsAccepted => ContactsAcceptedManifest,
        ContactsRejected => ContactsRejectedManifest,
        WindowGrant => WindowGrantManifest,
        RevokeGrants => RevokeGrantsManifest,
        GrantsRevoked => GrantsRevokedManifest,
        GetWindow => GetWindowManifest,
        WindowView => WindowViewManifest,
        ContactsRecorded => ContactsRecordedManifest,
        WindowSnapshot => WindowSnapshotManifest,
        _ => null,
    };

    public static IMessage? ToProto(object o) => o switch
    {
        RecordContacts m => ToProto(m),
        ContactsAccepted m => ToProto(m),
        ContactsRejected m => new P.ContactsRejected { BatchId = m.BatchId, Reason = m.Reason },
        WindowGrant m => ToProto(m),
        RevokeGrants m => ToProto(m),
        GrantsRevoked m => ToProto(m),
        GetWindow m => ToProto(m),
        WindowView m => ToProto(m),
        ContactsRecorded e => ToProto(e),
        WindowSnapshot s => ToProto(s),
        _ => null,
    };

    public static object? Read(string manifest, byte[] bytes) => manifest switch
    {
        RecordContactsManifest => FromProto(P.RecordContacts.Parser.ParseFrom(bytes)),
        ContactsAcceptedManifest => FromProto(P.ContactsAccepted.Parser.ParseFrom(bytes)),
        ContactsRejectedManifest => FromProto(P.ContactsRejected.Parser.ParseFrom(bytes)),
        WindowGrantManifest => FromProto(P.WindowGrant.Parser.ParseFrom(bytes)),
        RevokeGrantsManifest => FromProto(P.RevokeGrants.Parser.ParseFrom(bytes)),
        GrantsRevokedManifest => FromProto(P.GrantsRevoked.Parser.ParseFrom(bytes)),
        GetWindowManifest => FromProto(P.GetWindow.Parser.ParseFrom(bytes)),
        WindowViewManifest => FromProto(P.WindowView.Parser.ParseFrom(bytes)),
        ContactsRecordedManifest => FromProto(P.ContactsRecorded.Parser.ParseFrom(bytes)),
        WindowSnapshotManifest => FromProto(P.WindowSnapshot.Parser.ParseFrom(bytes)),
        _ => null,
    };

    private static P.RecordContacts ToProto(RecordContacts m)
    {
        var (low, high) = Split(m.ApplicationId);
        var proto = new P.RecordContacts { ApplicationIdLow = low, ApplicationIdHigh = high, BatchId = m.BatchId, Answered = m.Answered };
        proto.Contacts.Capacity = m.Contacts.Length;
        foreach (var c in m.Contacts)
        {
            proto.Contacts.Add(new P.ContactRequest
            {
                Threshold = c.Threshold, Workstation = c.Workstation, IsVirtualMachine = c.IsVirtualMachine,
                LicenseState = (P.LicenseState)c.LicenseState,
            }.WithIds(c.ClientMachineId, c.ProductId));
        }
        foreach (var trace in m.Traces)
        {
            proto.Traces.Add(new P.TraceContext { Traceparent = trace.TraceParent, Tracestate = trace.TraceState ?? "" });
        }
        return proto;
    }

    private static RecordContacts FromProto(P.RecordContacts proto)
    {
        var contacts = new ContactRequest[proto.Contacts.Count];
        for (var i = 0; i < contacts.Length; i++)
        {
            var c = proto.Contacts[i];
            contacts[i] = new ContactRequest(c.ClientMachineId(), c.ProductId(), c.Threshold, c.Workstation, c.IsVirtualMachine,
                ToLicenseState((int)c.LicenseState));
        }
        return new RecordContacts(Join(proto.ApplicationIdLow, proto.ApplicationIdHigh), proto.BatchId, contacts, proto.Answered)
        {
            Traces = proto.Traces.Count == 0 ? [] : proto.Traces.Select(t => new TraceContext(t.Traceparent, t.Tracestate.Length == 0 ? null : t.Tracestate)).ToArray(),
        };
    }

    private static P.ContactsAccepted ToProto(ContactsAccepted m)
    {
        var proto = new P.ContactsAccepted { BatchId = m.BatchId, RecordedAtUtcTicks = m.RecordedAt.UtcTicks };
        proto.Counts.Add(m.Counts);
        return proto;
    }

    private static ContactsAccepted FromProto(P.ContactsAccepted proto) =>
        new(proto.BatchId, Time(proto.RecordedAtUtcTicks), proto.Counts.ToArray());

    private static ContactsRejected FromProto(P.ContactsRejected proto) => new(proto.BatchId, proto.Reason);

    private static P.WindowGrant ToProto(WindowGrant m)
    {
        var (low, high) = Split(m.ApplicationId);
        return new P.WindowGrant
        {
            ApplicationIdLow = low, ApplicationIdHigh = high, Epoch = m.Epoch, Capacity = m.Capacity,
            HighestThreshold = m.HighestThreshold, IssuedAtUtcTicks = m.IssuedAt.UtcTicks,
            FullUntilUtcTicks = m.FullUntil.UtcTicks, LeaseTicks = m.Lease.Ticks,
        };
    }

    private static WindowGrant FromProto(P.WindowGrant proto) =>
        new(Join(proto.ApplicationIdLow, proto.ApplicationIdHigh), proto.Epoch, proto.Capacity, proto.HighestThreshold,
            Time(proto.IssuedAtUtcTicks), Time(proto.FullUntilUtcTicks), TimeSpan.FromTicks(proto.LeaseTicks));

    private static P.RevokeGrants ToProto(RevokeGrants m)
    {
        var (low, high) = Split(m.ApplicationId);
        return new P.RevokeGrants { ApplicationIdLow = low, ApplicationIdHigh = high, Epoch = m.Epoch };
    }

    private static RevokeGrants FromProto(P.RevokeGrants proto) =>
        new(Join(proto.ApplicationIdLow, proto.ApplicationIdHigh), proto.Epoch);

    private static P.GrantsRevoked ToProto(GrantsRevoked m)
    {
        var (low, high) = Split(m.ApplicationId);
        return new P.GrantsRevoked { ApplicationIdLow = low, ApplicationIdHigh = high, Epoch = m.Epoch, Node = m.Node };
    }

    private static GrantsRevoked FromProto(P.GrantsRevoked proto) =>
        new(Join(proto.ApplicationIdLow, proto.ApplicationIdHigh), proto.Epoch, proto.Node);

    private static P.GetWindow ToProto(GetWindow m)
    {
        var (low, high) = Split(m.ApplicationId);
        return new P.GetWindow { ApplicationIdLow = low, ApplicationIdHigh = high };
    }

    private static GetWindow FromProto(P.GetWindow proto) => new(Join(proto.ApplicationIdLow, proto.ApplicationIdHigh));

    private static P.WindowView ToProto(WindowView m)
    {
        var (low, high) = Split(m.ApplicationId);
        var proto = new P.WindowView
        {
            ApplicationIdLow = low, ApplicationIdHigh = high, AsOfUtcTicks = m.AsOf.UtcTicks, Count = m.Count,
            Capacity = m.Capacity, HighestThreshold = m.HighestThreshold, Requests = m.Requests, Activated = m.Activated,
            Owner = m.Owner,
        };
        if (m.LastRecordedAt is { } last) proto.LastRecordedAtUtcTicks = last.UtcTicks;
        AddStored(proto.Contacts, m.Contacts);
        return proto;
    }

    private static WindowView FromProto(P.WindowView proto) =>
        new(Join(proto.ApplicationIdLow, proto.ApplicationIdHigh), Time(proto.AsOfUtcTicks), proto.Count, proto.Capacity,
            proto.HighestThreshold, proto.Requests, proto.Activated,
            proto.HasLastRecordedAtUtcTicks ? Time(proto.LastRecordedAtUtcTicks) : null, proto.Owner, ReadStored(proto.Contacts));

    private static P.ContactsRecorded ToProto(ContactsRecorded e)
    {
        var proto = new P.ContactsRecorded
        {
            RecordedAtUtcTicks = e.RecordedAt.UtcTicks, HighestThreshold = e.HighestThreshold, Requests = e.Requests,
            Activated = e.Activated,
        };
        proto.Contacts.Capacity = e.Contacts.Count;
        foreach (var c in e.Contacts)
        {
            var contact = new P.RecordedContact { Workstation = c.Workstation, IsVirtualMachine = c.IsVirtualMachine }
                .WithIds(c.ClientMachineId, c.ProductId);
            if (c.OtherWorkstation is { } other) contact.OtherWorkstation = other;
            proto.Contacts.Add(contact);
        }
        return proto;
    }

    private static ContactsRecorded FromProto(P.ContactsRecorded proto)
    {
        var contacts = new RecordedContact[proto.Contacts.Count];
        for (var i = 0; i < contacts.Length; i++)
        {
            var c = proto.Contacts[i];
            contacts[i] = new RecordedContact(c.ClientMachineId(), c.ProductId(), c.Workstation, c.IsVirtualMachine,
                c.HasOtherWorkstation ? c.OtherWorkstation : null);
        }
        return new ContactsRecorded(Time(proto.RecordedAtUtcTicks), proto.HighestThreshold, contacts, proto.Requests, proto.Activated);
    }

    private static P.WindowSnapshot ToProto(WindowSnapshot s)
    {
        var proto = new P.WindowSnapshot { HighestThreshold = s.HighestThreshold, Requests = s.Requests, Activated = s.Activated };
        if (s.LastRecordedAt is { } last) proto.LastRecordedAtUtcTicks = last.UtcTicks;
        AddStored(proto.Contacts, s.Contacts);
        return proto;
    }

    private static WindowSnapshot FromProto(P.WindowSnapshot proto) =>
        new(proto.HighestThreshold, ReadStored(proto.Contacts), proto.Requests, proto.Activated,
            proto.HasLastRecordedAtUtcTicks ? Time(proto.LastRecordedAtUtcTicks) : null);

    private static void AddStored(RepeatedField<P.StoredContact> target, IReadOnlyList<StoredContact> contacts)
    {
        target.Capacity = contacts.Count;
        foreach (var c in contacts)
        {
            var contact = new P.StoredContact
            {
                Workstation = c.Workstation, IsVirtualMachine = c.IsVirtualMachine, LastContactUtcTicks = c.LastContact.UtcTicks,
            }.WithIds(c.ClientMachineId, c.ProductId);
            if (c.OtherWorkstation is { } other) contact.OtherWorkstation = other;
            target.Add(contact);
        }
    }

    private static StoredContact[] ReadStored(IReadOnlyList<P.StoredContact> contacts)
    {
        var stored = new StoredContact[contacts.Count];
        for (var i = 0; i < stored.Length; i++)
        {
            var c = contacts[i];
            stored[i] = new StoredContact(c.ClientMachineId(), c.ProductId(), c.Workstation, c.IsVirtualMachine,
                Time(c.LastContactUtcTicks), c.HasOtherWorkstation ? c.OtherWorkstation : null);
        }
        return stored;
    }
}
