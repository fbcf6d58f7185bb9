namespace KmsCluster.Protocol.Catalog;

/// <summary>"Did you mean": the known names closest to a mistyped one, by edit distance, ignoring case.</summary>
public static class NameSuggestions
{
    /// <summary>Up to <paramref name="count"/> of <paramref name="known"/>, closest to <paramref name="text"/> first
    /// (ties in the order given).</summary>
    public static IReadOnlyList<string> Closest(IEnumerable<string> known, string text, int count = 3)
    {
        var wanted = text.Trim().ToLowerInvariant();
        return known
            .Select((name, index) => (Name: name, Index: index, Distance: EditDistance(name.ToLowerInvariant(), wanted)))
            .OrderBy(candidate => candidate.Distance)
            .ThenBy(candidate => candidate.Index)
            .Take(count)
            .Select(candidate => candidate.Name)
            .ToList();
    }

    /// <summary>Edit distance with transpositions (optimal string alignment): inserting, deleting or replacing one
    /// character, or swapping two neighbours, costs 1 each. "2091" is one edit from "2019".</summary>
    public static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
