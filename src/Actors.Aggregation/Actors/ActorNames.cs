using System.Text;

namespace Actors.Aggregation;

/// <summary>
/// Fetcher names as actor names: any text in, a valid actor path element out, and back. Everything but letters, digits and
/// <c>-_.~</c> is percent-escaped byte by byte in WTF-8 (UTF-8 that also encodes a lone surrogate, as three bytes), so the
/// escaping is injective: two different names never share an actor name, even names made of unpaired surrogates, which
/// <see cref="Uri.EscapeDataString(string)"/> would all turn into the same replacement character.
/// </summary>
internal static class ActorNames
{
    public static string Escape(string name)
    {
        var text = new StringBuilder(name.Length);
        var allDots = name.Length > 0 && name.All(c => c == '.');
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '~' || (c == '.' && !allDots))
            {
                text.Append(c);
                continue;
            }
            int codePoint = c;
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
                codePoint = char.ConvertToUtf32(c, name[++i]);
            foreach (var b in bytes[..EncodeWtf8(codePoint, bytes)])
                text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.ToString();
    }

    /// <summary>The name <see cref="Escape"/> was given; a name it did not make comes back with its escapes decoded as far as they go.</summary>
    public static string Unescape(string actorName)
    {
        var bytes = new List<byte>(actorName.Length);
        Span<byte> encoded = stackalloc byte[4];
        for (var i = 0; i < actorName.Length; i++)
        {
            if (actorName[i] == '%' && i + 2 < actorName.Length
                && byte.TryParse(actorName.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                foreach (var e in encoded[..EncodeWtf8(actorName[i], encoded)]) bytes.Add(e);
            }
        }
        return DecodeWtf8(bytes);
    }

    private static int EncodeWtf8(int codePoint, Span<byte> into)
    {
        switch (codePoint)
        {
            case < 0x80:
                into[0] = (byte)codePoint;
                return 1;
            case < 0x800:
                into[0] = (byte)(0xC0 | (codePoint >> 6));
                into[1] = (byte)(0x80 | (codePoint & 0x3F));
                return 2;
            case < 0x10000: // lone surrogates included: that is what makes it WTF-8
                into[0] = (byte)(0xE0 | (codePoint >> 12));
                into[1] = (byte)(0x80 | ((codePoint >> 6) & 0x3F));
                into[2] = (byte)(0x80 | (codePoint & 0x3F));
                return 3;
            default:
                into[0] = (byte)(0xF0 | (codePoint >> 18));
                into[1] = (byte)(0x80 | ((codePoint >> 12) & 0x3F));
                into[2] = (byte)(0x80 | ((codePoint >> 6) & 0x3F));
                into[3] = (byte)(0x80 | (codePoint & 0x3F));
                return 4;
        }
    }

    private static string DecodeWtf8(List<byte> bytes)
    {
        var text = new StringBuilder(bytes.Count);
        for (var i = 0; i < bytes.Count;)
        {
            var b = bytes[i];
            int length = b switch { < 0x80 => 1, >= 0xF0 => 4, >= 0xE0 => 3, >= 0xC0 => 2, _ => 0 };
            if (length == 0 || i + length > bytes.Count)
            {
                text.Append('\uFFFD');
                i++;
                continue;
            }
            var codePoint = length == 1 ? b : b & (0xFF >> (length + 1));
            for (var k = 1; k < length; k++) codePoint = (codePoint << 6) | (bytes[i + k] & 0x3F);
            if (codePoint >= 0x10000) text.Append(char.ConvertFromUtf32(codePoint));
            else text.Append((char)codePoint);
            i += length;
        }
        return text.ToString();
    }
}
