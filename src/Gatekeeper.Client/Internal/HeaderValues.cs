using System.Diagnostics.CodeAnalysis;
using System.Net.Http.Headers;

namespace Gatekeeper.Client.Internal;

/// <summary>Header look-ups through the non-validating view: no parsing, no allocation for a single value.</summary>
internal static class HeaderValues
{
    public static bool TryGetFirst(HttpHeaders headers, string name, [NotNullWhen(true)] out string? value)
    {
        if (headers.NonValidated.TryGetValues(name, out var values))
        {
            foreach (var item in values)
            {
                value = item;
                return true;
            }
        }

        value = null;
        return false;
    }

    public static Metadata ToMetadata(HttpHeaders headers)
    {
        var metadata = new Metadata();
        foreach (var header in headers.NonValidated)
        {
            foreach (var value in header.Value)
            {
                metadata.AddReceived(header.Key, value);
            }
        }

        return metadata;
    }
}
