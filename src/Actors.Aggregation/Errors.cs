namespace Actors.Aggregation;

/// <summary>Describing user exceptions without trusting them: a <c>Message</c> getter may throw.</summary>
internal static class Errors
{
    /// <summary><c>TypeName: message</c>, or <c>TypeName (its Message threw X)</c>.</summary>
    public static string Describe(Exception exception) => $"{exception.GetType().Name}: {MessageOf(exception)}";

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
