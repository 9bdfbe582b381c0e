using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Actors.Tests.Shared;

/// <summary>
/// The documentation's code, and where it lives in the specs. Every <c>```csharp</c> block of every README.md in the
/// repository must be the text of one snippet region of a spec source file: the lines between
/// <c>// snippet:begin &lt;name&gt;</c> and <c>// snippet:end</c> in any <c>tests/**/*.cs</c>. The spec that holds a region
/// runs it and asserts what the README says it does, so a README example always compiles, runs and tells the truth.
/// Compared after normalising: line endings, trailing whitespace, the common indentation, and blank lines at either end.
/// Shared by the test projects (linked into each that needs it).
/// </summary>
internal static partial class DocSnippets
{
    /// <summary>A fenced code block of a README.</summary>
    /// <param name="Readme">The README's path, relative to the repository root, with <c>/</c> separators.</param>
    /// <param name="Line">The 1-based line of the opening fence.</param>
    /// <param name="Language">The fence's info string, first word (<c>csharp</c>, <c>text</c>, ...); empty when none.</param>
    /// <param name="Text">The block's text, normalised.</param>
    public sealed record CodeBlock(string Readme, int Line, string Language, string Text)
    {
        public bool IsCSharp => Language.ToLowerInvariant() is "csharp" or "cs" or "c#";

        /// <summary>Where the block is and how it starts, for a failure message.</summary>
        public string Describe(int lines = 3) =>
            $"{Readme}:{Line}: ```{Language} block beginning\n" + string.Join("\n", Text.Split('\n').Take(lines).Select(l => "    | " + l));
    }

    /// <summary>A snippet region of a spec source file.</summary>
    /// <param name="Name">The name after <c>snippet:begin</c>.</param>
    /// <param name="File">The source file's path, relative to the repository root, with <c>/</c> separators.</param>
    /// <param name="Line">The 1-based line of the <c>snippet:begin</c> marker.</param>
    /// <param name="Text">The region's text, normalised.</param>
    public sealed record Region(string Name, string File, int Line, string Text);

    private static readonly string[] SkippedDirectories = ["bin", "obj", ".git"];

    /// <summary>
    /// The repository root: the nearest directory holding <c>Actors.sln</c> above the test's output directory, else above
    /// this source file (as it was compiled).
    /// </summary>
    public static string RepositoryRoot([CallerFilePath] string sourcePath = "")
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourcePath) })
        {
            for (var directory = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); directory is not null; directory = directory.Parent)
                if (File.Exists(Path.Combine(directory.FullName, "Actors.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException($"No directory holding Actors.sln above {AppContext.BaseDirectory} or {sourcePath}.");
    }

    /// <summary>Every README.md under <paramref name="root"/> (bin, obj and .git skipped), root first, then by path.</summary>
    public static IReadOnlyList<string> Readmes(string root) =>
        Files(root, root, "README.md").OrderBy(p => p.Count(c => c == '/')).ThenBy(p => p, StringComparer.Ordinal).ToArray();

    /// <summary>Every fenced code block of the README at <paramref name="readme"/> (relative to <paramref name="root"/>).</summary>
    /// <remarks>CommonMark fences: three or more backticks or tildes, indented at most three spaces; the block ends at a
    /// fence of the same character at least as long, and loses as much indentation as its opening fence had.</remarks>
    public static IReadOnlyList<CodeBlock> CodeBlocks(string root, string readme)
    {
        var lines = ReadLines(Path.Combine(root, readme));
        var blocks = new List<CodeBlock>();
        for (var i = 0; i < lines.Length; i++)
        {
            var open = Fence().Match(lines[i]);
            if (!open.Success) continue;
            var indent = open.Groups["indent"].Length;
            var fence = open.Groups["fence"].Value;
            var language = open.Groups["info"].Value.Trim().Split(' ', 2)[0];
            var body = new List<string>();
            var start = i;
            for (i++; i < lines.Length; i++)
            {
                var close = Fence().Match(lines[i]);
                if (close.Success && close.Groups["fence"].Value[0] == fence[0] && close.Groups["fence"].Length >= fence.Length
                    && close.Groups["info"].Value.Trim().Length == 0)
                    break;
                body.Add(RemoveIndent(lines[i], indent));
            }
            if (i == lines.Length) throw new InvalidDataException($"{readme}:{start + 1}: a code block is never closed.");
            blocks.Add(new CodeBlock(readme, start + 1, language, Normalize(body)));
        }
        return blocks;
    }

    /// <summary>Every snippet region of every <c>tests/**/*.cs</c> file under <paramref name="root"/>.</summary>
    /// <exception cref="InvalidDataException">A region has no name, is never ended, or another begins inside it.</exception>
    public static IReadOnlyList<Region> Regions(string root)
    {
        var regions = new List<Region>();
        foreach (var file in Files(root, Path.Combine(root, "tests"), "*.cs").OrderBy(p => p, StringComparer.Ordinal))
        {
            var lines = ReadLines(Path.Combine(root, file));
            (string Name, int Line, List<string> Body)? open = null;
            for (var i = 0; i < lines.Length; i++)
            {
                var marker = Marker().Match(lines[i]);
                if (!marker.Success)
                {
                    open?.Body.Add(lines[i]);
                    continue;
                }
                var name = marker.Groups["name"].Value;
                if (marker.Groups["kind"].Value == "begin")
                {
                    if (open is { } outer) throw new InvalidDataException($"{file}:{i + 1}: snippet '{name}' begins inside snippet '{outer.Name}' (line {outer.Line}).");
                    if (name.Length == 0) throw new InvalidDataException($"{file}:{i + 1}: a snippet region needs a name: // snippet:begin <name>.");
                    open = (name, i + 1, []);
                }
                else
                {
                    if (open is not { } region) throw new InvalidDataException($"{file}:{i + 1}: snippet:end without a snippet:begin.");
                    if (name.Length > 0 && name != region.Name)
                        throw new InvalidDataException($"{file}:{i + 1}: snippet:end {name} closes snippet '{region.Name}' (line {region.Line}).");
                    regions.Add(new Region(region.Name, file, region.Line, Normalize(region.Body)));
                    open = null;
                }
            }
            if (open is { } unclosed) throw new InvalidDataException($"{file}:{unclosed.Line}: snippet '{unclosed.Name}' is never ended.");
        }
        return regions;
    }

    /// <summary>
    /// What is wrong with the C# blocks of the READMEs: one entry per block that is no region's text, naming the README, the
    /// line and the block's first lines, and the nearest region with its first differing line. Empty when all is well.
    /// </summary>
    public static IReadOnlyList<string> CSharpBlocksWithoutRegion(IReadOnlyList<CodeBlock> blocks, IReadOnlyList<Region> regions)
    {
        var problems = new List<string>();
        foreach (var block in blocks.Where(b => b.IsCSharp))
        {
            if (regions.Any(r => r.Text == block.Text)) continue;
            var message = new StringBuilder(block.Describe()).Append("\n  is not the text of any // snippet:begin region in tests/**/*.cs.");
            if (Nearest(block, regions) is { } nearest)
                message.Append($"\n  Nearest: snippet '{nearest.Region.Name}' ({nearest.Region.File}:{nearest.Region.Line}); first difference at block line {nearest.Line + 1}:")
                    .Append($"\n    README : {nearest.BlockLine}").Append($"\n    snippet: {nearest.RegionLine}");
            problems.Add(message.ToString());
        }
        return problems;
    }

    /// <summary>Normalises code for comparison: <c>\n</c> line endings, no trailing whitespace, no common indentation, no blank lines at either end.</summary>
    public static string Normalize(IEnumerable<string> lines)
    {
        var trimmed = lines.SelectMany(l => l.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n')).Select(l => l.TrimEnd()).ToList();
        while (trimmed.Count > 0 && trimmed[0].Length == 0) trimmed.RemoveAt(0);
        while (trimmed.Count > 0 && trimmed[^1].Length == 0) trimmed.RemoveAt(trimmed.Count - 1);
        var indent = trimmed.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join("\n", trimmed.Select(l => l.Length >= indent ? l[indent..] : l));
    }

    private static (Region Region, int Line, string BlockLine, string RegionLine)? Nearest(CodeBlock block, IReadOnlyList<Region> regions)
    {
        var blockLines = block.Text.Split('\n');
        (Region Region, int Line, string BlockLine, string RegionLine)? best = null;
        var bestShared = 0;
        foreach (var region in regions)
        {
            var regionLines = region.Text.Split('\n');
            var shared = blockLines.Intersect(regionLines, StringComparer.Ordinal).Count();
            if (shared <= bestShared) continue;
            var line = 0;
            while (line < blockLines.Length && line < regionLines.Length && blockLines[line] == regionLines[line]) line++;
            bestShared = shared;
            best = (region, line, line < blockLines.Length ? blockLines[line] : "(block ends)", line < regionLines.Length ? regionLines[line] : "(snippet ends)");
        }
        return best;
    }

    private static string RemoveIndent(string line, int indent)
    {
        var spaces = 0;
        while (spaces < indent && spaces < line.Length && line[spaces] == ' ') spaces++;
        return line[spaces..];
    }

    private static string[] ReadLines(string path) => File.ReadAllText(path).Replace("\r\n", "\n").Split('\n');

    /// <summary>Files named like <paramref name="pattern"/> under <paramref name="directory"/>, relative to <paramref name="root"/>.</summary>
    private static IEnumerable<string> Files(string root, string directory, string pattern)
    {
        if (!Directory.Exists(directory)) yield break;
        foreach (var file in Directory.EnumerateFiles(directory, pattern))
            yield return Path.GetRelativePath(root, file).Replace('\\', '/');
        foreach (var child in Directory.EnumerateDirectories(directory))
        {
            if (SkippedDirectories.Contains(Path.GetFileName(child), StringComparer.OrdinalIgnoreCase)) continue;
            foreach (var file in Files(root, child, pattern)) yield return file;
        }
    }

    [GeneratedRegex(@"^(?<indent> {0,3})(?<fence>`{3,}|~{3,})(?<info>[^`]*)$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^\s*//\s*snippet:(?<kind>begin|end)\b\s*(?<name>\S*)\s*$")]
    private static partial Regex Marker();
}
