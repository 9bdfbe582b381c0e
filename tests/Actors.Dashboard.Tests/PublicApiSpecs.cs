using System.Runtime.CompilerServices;
using Actors.Aggregation.Hosting;
using PublicApiGenerator;
using Xunit;

namespace Actors.Dashboard.Tests;

/// <summary>Keeps accidental changes to the hosting library's public surface visible: any change must update the approved file in the same commit.</summary>
public sealed class PublicApiSpecs
{
    [Fact]
    public void The_hosting_public_API_must_match_the_approved_file()
    {
        var actual = typeof(AggregatorOptions).Assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false });
        var approvedPath = Path.Combine(SourceDirectory(), "PublicApi", "Actors.Aggregation.Hosting.approved.txt");
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath) : "";
        if (Normalize(approved) != Normalize(actual))
        {
            var receivedPath = approvedPath.Replace(".approved.txt", ".received.txt", StringComparison.Ordinal);
            File.WriteAllText(receivedPath, actual);
            Assert.Fail($"The public API changed. Review {receivedPath} and, if intended, copy it over {approvedPath}.");
        }
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").Trim();

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
