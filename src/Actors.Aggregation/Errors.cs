namespace Actors.Aggregation;

/// <summary>Describing user exceptions without trusting them: a <c>Message</c> getter may throw.</summary>
internal static class Errors
{
    /// <summary><c>TypeName: message</c>, or <c>TypeName (its Message threw X)</c>; for an exception from another node, the
    /// original type's name.</summary>
    public static string Describe(Exception exception) => $"{TypeNameOf(exception)}: {MessageOf(exception)}";

    private static string TypeNameOf(Exception exception)
    {
        if (exception is not RemoteException remote) return exception.GetType().Name;
        // A full name, perhaps generic ("Ns.Error`1[[Ns.Arg, Asm]]"): the short name is what precedes the type arguments.
        var name = remote.TypeName;
        var arguments = name.IndexOf('[');
        if (arguments > 0) name = name[..arguments];
        return name[(name.LastIndexOf('.') + 1)..];
    }

    /// <summary>The exception's message, or a note saying its <c>Message</c> getter threw.</summary>
    public static string MessageOf(Exception exception)
    {
        try
        {
            return exception.Message;
        }
        catch (Exception e)
        {
            return $"(its Message threw {e.GetType().Name})";
        }
    }
}
