namespace KmsCluster.Protocol.Catalog;

/// <summary>An application with its own contact window (Windows; Office).</summary>
public sealed record KmsApplication(Guid Id, string Slug, string Name);

/// <summary>What kind of edition a product is; decides which hosts may activate it.</summary>
public enum ProductKind
{
    WindowsClient,
    WindowsServer,
    Office,
    Other,
}

/// <summary>An edition a client can ask to activate.</summary>
/// <param name="Id">The id on the wire.</param>
/// <param name="Slug">The short name people type (windows-11-enterprise).</param>
/// <param name="Name">Display name.</param>
/// <param name="Application">The window this edition is counted in.</param>
/// <param name="Family">The product line (Windows 11, Windows Server 2025, Office LTSC 2024).</param>
/// <param name="Kind">Client, server or Office edition.</param>
/// <param name="Threshold">The count of unique machines a client of this edition needs (N policy).</param>
public sealed record Product(Guid Id, string Slug, string Name, KmsApplication Application, string Family,
    ProductKind Kind, int Threshold);
