namespace KmsCluster.Deploy.Tests;

/// <summary>The repository the tests run from: the deployment files are read where they are checked in.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KmsCluster.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"no KmsCluster.sln above {AppContext.BaseDirectory}");
    }
}
