using System.Reflection;
using System.Runtime.CompilerServices;
using PublicApiGenerator;
using Xunit;

namespace Actors.Tests.Shared;

/// <summary>
/// Approval check of an assembly's public surface, shared by the test projects (linked into each): any change must update
/// the approved file, kept in a <c>PublicApi</c> folder next to the calling spec, in the same commit.
/// </summary>
internal static class PublicApiApproval
{
    public static void Verify(Assembly assembly, string approvedFileName, [CallerFilePath] string callerPath = "")
    {
        var actual = assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false });
        var approvedPath = Path.Combine(Path.GetDirectoryName(callerPath)!, "PublicApi", approvedFileName);
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath) : "";
        if (Normalize(approved) == Normalize(actual)) return;
        var receivedPath = approvedPath.Replace(".approved.txt", ".received.txt", StringComparison.Ordinal);
        File.WriteAllText(receivedPath, actual);
        Assert.Fail($"The public API changed. Review {receivedPath} and, if intended, copy it over {approvedPath}.");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").Trim();
}
