namespace KmsCluster.Node.Registry;

/// <summary>One answer as the client registry records it: which machine, what it was told, when.</summary>
public readonly record struct RegistryContact(
    Guid ApplicationId,
    Guid Cmid,
    string Workstation,
    Guid ProductId,
    bool VirtualMachine,
    int Count,
    bool Activated,
    DateTimeOffset? ValidUntil,
    DateTimeOffset At)
{
    public RegistryKey Key => new(ApplicationId, Cmid, Workstation);
}

/// <summary>A registry row's identity: clones are rows that share a CMID.</summary>
public readonly record struct RegistryKey(Guid ApplicationId, Guid Cmid, string Workstation);

/// <summary>A row to upsert: the latest contact of its key, and the earliest seen in the same batch.</summary>
public readonly record struct RegistryRow(RegistryContact Latest, DateTimeOffset FirstContact);
