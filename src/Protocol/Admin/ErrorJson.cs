namespace KmsCluster.Protocol.Admin;

/// <summary>The body of every admin API error (404, 409, 503): what went wrong, in words.</summary>
public sealed record ErrorJson(string Error);
