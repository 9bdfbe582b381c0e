using System.Text.RegularExpressions;
using Actors.Tests.Shared;
using Xunit;

namespace Actors.Aggregation.Tests;

/// <summary>
/// The READMEs show only code that the specs compile and run: every <c>```csharp</c> block of every README.md is the text of a
/// <c>// snippet:begin</c> region of a spec (see <see cref="DocSnippets"/>), and the spec holding the region asserts what the
/// README says the code does. Their relative links lead somewhere.
/// </summary>
public sealed partial class DocumentationSpecs
{
    private static readonly string Root = DocSnippets.RepositoryRoot();

    /// <summary>The READMEs the project has; more may come, none of these may go missing (or the checks would pass on nothing).</summary>
    private static readonly string[] KnownReadmes =
    [
        "README.md",
        "src/Actors.Aggregation/README.md",
        "src/Actors.Aggregation.Hosting/README.md",
        "src/Actors.Dashboard/README.md",
        "tests/Actors.Aggregation.Benchmarks/README.md",
        "tests/Actors.Aggregation.Reliability.Tests/README.md",
    ];

    private static IReadOnlyList<DocSnippets.CodeBlock> AllBlocks() =>
        DocSnippets.Readmes(Root).SelectMany(readme => DocSnippets.CodeBlocks(Root, readme)).ToArray();

    [Fact]
    public void Every_csharp_block_of_every_README_must_be_a_snippet_region_of_a_spec()
    {
        var readmes = DocSnippets.Readmes(Root);
        foreach (var known in KnownReadmes) Assert.Contains(known, readmes);
        var blocks = AllBlocks();
        Assert.Contains(blocks, b => b.IsCSharp && b.Readme == "README.md");

        var problems = DocSnippets.CSharpBlocksWithoutRegion(blocks, DocSnippets.Regions(Root));

        Assert.True(problems.Count == 0,
            $"{problems.Count} C# block(s) of the READMEs are not compiled and run by any spec. Put the code in a spec between "
            + "// snippet:begin <name> and // snippet:end, assert what the README says it does, and show exactly that text:\n\n"
            + string.Join("\n\n", problems));
    }

    [Fact]
    public void Every_snippet_region_must_have_a_unique_name_and_be_shown_by_a_README()
    {
        var regions = DocSnippets.Regions(Root);
        var shown = AllBlocks().Where(b => b.IsCSharp).Select(b => b.Text).ToHashSet(StringComparer.Ordinal);

        var duplicates = regions.GroupBy(r => r.Name).Where(g => g.Count() > 1)
            .Select(g => $"'{g.Key}': {string.Join(", ", g.Select(r => $"{r.File}:{r.Line}"))}").ToArray();
        var unshown = regions.Where(r => !shown.Contains(r.Text)).Select(r => $"'{r.Name}' ({r.File}:{r.Line})").ToArray();

        Assert.True(duplicates.Length == 0, "snippet names used more than once: " + string.Join("; ", duplicates));
        Assert.True(unshown.Length == 0,
            "snippet regions that no README shows (show them in a ```csharp block, or remove the markers): " + string.Join("; ", unshown));
    }

    [Fact]
    public void Every_relative_link_of_every_README_must_lead_to_a_file_or_folder()
    {
        var broken = new List<string>();
        foreach (var readme in DocSnippets.Readmes(Root))
        {
            var directory = Path.GetDirectoryName(Path.Combine(Root, readme))!;
            var inCode = false;
            var lines = File.ReadAllLines(Path.Combine(Root, readme));
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal)) inCode = !inCode;
                if (inCode) continue;
                foreach (Match link in Link().Matches(lines[i]))
                {
                    var target = link.Groups["target"].Value;
                    if (target.StartsWith('#') || target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                        continue;
                    var path = Path.GetFullPath(Path.Combine(directory, Uri.UnescapeDataString(target.Split('#')[0])));
                    if (!File.Exists(path) && !Directory.Exists(path)) broken.Add($"{readme}:{i + 1}: ({target})");
                }
            }
        }

        Assert.True(broken.Count == 0, "links that lead nowhere: " + string.Join("; ", broken));
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)(\s+""[^""]*"")?\)")]
    private static partial Regex Link();
}
