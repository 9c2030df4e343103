using System.Collections;
using Gatekeeper.Protocol;

namespace Gatekeeper.Client;

/// <summary>
/// gRPC metadata: custom request headers, or the headers and trailers of a response. Keys are lower-case;
/// keys ending in "-bin" carry bytes (sent as base64), all others carry printable ASCII text.
/// </summary>
public sealed class Metadata : IReadOnlyList<MetadataEntry>
{
    private readonly List<MetadataEntry> _entries = [];

    /// <inheritdoc />
    public int Count => _entries.Count;

    /// <inheritdoc />
    public MetadataEntry this[int index] => _entries[index];

    /// <summary>Adds a text entry.</summary>
    /// <param name="key">The key: letters, digits, '-', '_' or '.'; upper case is lowered; must not end in "-bin".</param>
    /// <param name="value">Printable ASCII (0x20-0x7E), as HTTP/2 headers require.</param>
    /// <exception cref="ArgumentException">The key or value cannot be sent as gRPC metadata.</exception>
    public void Add(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var normalized = ValidateKey(key);
        if (BinaryMetadata.IsBinaryKey(normalized))
        {
            throw new ArgumentException($"Metadata key '{normalized}' ends in '-bin' and so takes a byte[] value.", nameof(value));
        }

        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                throw new ArgumentException(
                    $"The value of metadata key '{normalized}' holds a character outside printable ASCII; use a '-bin' key for arbitrary bytes.",
                    nameof(value));
            }
        }

        _entries.Add(new MetadataEntry(normalized, value, null));
    }

    /// <summary>Adds a binary entry, sent base64-encoded.</summary>
    /// <param name="key">The key; must end in "-bin".</param>
    /// <param name="value">The bytes.</param>
    /// <exception cref="ArgumentException">The key does not end in "-bin" or is otherwise invalid.</exception>
    public void Add(string key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var normalized = ValidateKey(key);
        if (!BinaryMetadata.IsBinaryKey(normalized))
        {
            throw new ArgumentException($"Metadata key '{normalized}' takes a text value; binary values need a key ending in '-bin'.", nameof(key));
        }

        _entries.Add(new MetadataEntry(normalized, null, value));
    }

    /// <summary>The first text value of <paramref name="key"/>, or null.</summary>
    public string? GetValue(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (var entry in _entries)
        {
            if (!entry.IsBinary && string.Equals(entry.Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return entry.Value;
            }
        }

        return null;
    }

    /// <summary>The first binary value of <paramref name="key"/> (a "-bin" key), or null.</summary>
    public byte[]? GetValueBytes(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (var entry in _entries)
        {
            if (entry.IsBinary && string.Equals(entry.Key, key, StringComparison.OrdinalIgnoreCase))
            {
                return entry.ValueBytes;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public IEnumerator<MetadataEntry> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// Adds a header received from the server without the send-side checks: peers decide what they send, and a
    /// response must not fail over its metadata. A "-bin" value that is not base64 is dropped.
    /// </summary>
    internal void AddReceived(string key, string value)
    {
        var normalized = key.ToLowerInvariant();
        if (BinaryMetadata.IsBinaryKey(normalized))
        {
            if (BinaryMetadata.TryDecode(value, out var bytes))
            {
                _entries.Add(new MetadataEntry(normalized, null, bytes));
            }

            return;
        }

        _entries.Add(new MetadataEntry(normalized, value, null));
    }

    private static string ValidateKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        foreach (var c in key)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.'))
            {
                throw new ArgumentException($"Metadata key '{key}' holds '{c}': only letters, digits, '-', '_' and '.' are allowed.", nameof(key));
            }
        }

        var normalized = key.ToLowerInvariant();

        // These are set by the client itself; a second copy would make the request malformed.
        if (normalized.StartsWith("grpc-", StringComparison.Ordinal) ||
            normalized is "content-type" or "te" or "user-agent" or "host" or "content-length" or "connection" or "transfer-encoding")
        {
            throw new ArgumentException($"Metadata key '{normalized}' is reserved for the gRPC protocol.", nameof(key));
        }

        return normalized;
    }
}

/// <summary>One metadata entry: a lower-case key and either a text or a binary value.</summary>
public sealed class MetadataEntry
{
    private readonly string? _value;
    private readonly byte[]? _valueBytes;

    internal MetadataEntry(string key, string? value, byte[]? valueBytes)
    {
        Key = key;
        _value = value;
        _valueBytes = valueBytes;
    }

    /// <summary>The lower-case key.</summary>
    public string Key { get; }

    /// <summary>True for "-bin" keys, whose value is <see cref="ValueBytes"/>.</summary>
    public bool IsBinary => _valueBytes is not null;

    /// <summary>The text value.</summary>
    /// <exception cref="InvalidOperationException">The entry is binary; read <see cref="ValueBytes"/>.</exception>
    public string Value => _value ?? throw new InvalidOperationException($"Metadata entry '{Key}' is binary; read ValueBytes.");

    /// <summary>The binary value (decoded from base64 on receipt).</summary>
    /// <exception cref="InvalidOperationException">The entry is text; read <see cref="Value"/>.</exception>
    public byte[] ValueBytes => _valueBytes ?? throw new InvalidOperationException($"Metadata entry '{Key}' is text; read Value.");

    /// <inheritdoc />
    public override string ToString() => IsBinary ? $"{Key}: {BinaryMetadata.Encode(_valueBytes)}" : $"{Key}: {_value}";
}
