namespace Actors.Aggregation;

/// <summary>Fetcher names as actor names: any text in, a valid actor path element out, and back.</summary>
internal static class ActorNames
{
    /// <summary>Percent-escapes everything but letters, digits and <c>-_.~</c>; a name of only dots is escaped too, so it never reads as a relative path.</summary>
    public static string Escape(string name)
    {
        var escaped = Uri.EscapeDataString(name);
        return escaped.Trim('.').Length == 0 ? escaped.Replace(".", "%2E", StringComparison.Ordinal) : escaped;
    }

    public static string Unescape(string actorName) => Uri.UnescapeDataString(actorName);
}
