using System.Text;

namespace Gatekeeper.LoadTests.Http2;

/// <summary>
/// Decodes HPACK (RFC 7541) header blocks: indexed fields, literals with and without indexing, never-indexed
/// literals, dynamic table size updates, raw and Huffman-coded strings. One instance per connection,
/// because the dynamic table is connection state shared by every stream's header blocks, in the order
/// they arrive; not thread-safe. Any <see cref="InvalidDataException"/> is a connection error
/// (COMPRESSION_ERROR): the table may then be out of step with the peer's, so the decoder must not be reused.
/// </summary>
internal sealed class HpackDecoder
{
    // RFC 7541 section 4.1: an entry's size counts its name and value octets plus 32.
    private const int EntryOverhead = 32;

    private readonly int _maxTableSize;
    private readonly Entry[] _entries;
    private int _tableSizeLimit;
    private int _tableSize;
    private int _count;
    private int _newest = -1;

    /// <summary>Creates a decoder with an empty dynamic table.</summary>
    /// <param name="maxDynamicTableSize">
    /// The SETTINGS_HEADER_TABLE_SIZE we advertise: the limit for the peer's table size updates and the
    /// table's initial size. Defaults to 4096, the HTTP/2 default, which a peer may use before it sees our SETTINGS.
    /// </param>
    public HpackDecoder(int maxDynamicTableSize = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDynamicTableSize);
        _maxTableSize = maxDynamicTableSize;
        _tableSizeLimit = maxDynamicTableSize;

        // Every entry takes at least 32 octets, so this many slots can never overflow.
        _entries = new Entry[Math.Max(1, maxDynamicTableSize / EntryOverhead)];
    }

    /// <summary>
    /// Decodes one complete header block (HEADERS + any CONTINUATION payloads already concatenated),
    /// appending each field in order.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The block is malformed: bad index, integer overflow, truncated string, invalid Huffman padding or EOS,
    /// table size update above the maximum or not at the start of the block.
    /// </exception>
    public void Decode(ReadOnlySpan<byte> block, List<(string Name, string Value)> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);

        var position = 0;
        var fieldSeen = false;
        while (position < block.Length)
        {
            var first = block[position];
            if ((first & 0x80) != 0)
            {
                // 1xxxxxxx: indexed header field (section 6.1).
                var index = ReadInteger(block, ref position, 7);
                headers.Add(GetEntry(index));
                fieldSeen = true;
            }
            else if ((first & 0x40) != 0)
            {
                // 01xxxxxx: literal with incremental indexing (section 6.2.1).
                var field = ReadLiteral(block, ref position, 6);
                headers.Add(field);
                Add(field.Name, field.Value);
                fieldSeen = true;
            }
            else if ((first & 0x20) != 0)
            {
                // 001xxxxx: dynamic table size update (section 6.3); section 4.2 allows it only before the first field.
                if (fieldSeen)
                {
                    throw new InvalidDataException("HPACK dynamic table size update after a header field; it must come at the start of the block.");
                }

                var size = ReadInteger(block, ref position, 5);
                if (size > _maxTableSize)
                {
                    throw new InvalidDataException($"HPACK dynamic table size update to {size} exceeds the advertised maximum of {_maxTableSize}.");
                }

                _tableSizeLimit = size;
                EvictUntil(size);
            }
            else
            {
                // 0000xxxx without indexing, 0001xxxx never indexed (sections 6.2.2, 6.2.3): the same to a
                // decoder that forwards nothing on.
                headers.Add(ReadLiteral(block, ref position, 4));
                fieldSeen = true;
            }
        }
    }

    private (string Name, string Value) ReadLiteral(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        var nameIndex = ReadInteger(block, ref position, prefixBits);
        var name = nameIndex == 0 ? ReadString(block, ref position) : GetEntry(nameIndex).Name;
        var value = ReadString(block, ref position);
        return (name, value);
    }

    private (string Name, string Value) GetEntry(int index)
    {
        if (index == 0)
        {
            throw new InvalidDataException("HPACK index 0 is not valid.");
        }

        if (index <= HpackStaticTable.Count)
        {
            return HpackStaticTable.Get(index);
        }

        // Dynamic index 1 is the newest entry (section 2.3.3).
        var dynamicIndex = index - HpackStaticTable.Count;
        if (dynamicIndex > _count)
        {
            throw new InvalidDataException(
                $"HPACK index {index} is beyond the static table ({HpackStaticTable.Count}) and the dynamic table ({_count} entries).");
        }

        var entry = _entries[(_newest - (dynamicIndex - 1) + _entries.Length) % _entries.Length];
        return (entry.Name, entry.Value);
    }

    private void Add(string name, string value)
    {
        // Strings were decoded one char per octet, so lengths are octet counts.
        var size = EntryOverhead + name.Length + value.Length;

        // Section 4.4: an entry larger than the table empties it and is not added.
        if (size > _tableSizeLimit)
        {
            EvictUntil(0);
            return;
        }

        EvictUntil(_tableSizeLimit - size);
        _newest = (_newest + 1) % _entries.Length;
        _entries[_newest] = new Entry(name, value, size);
        _count++;
        _tableSize += size;
    }

    private void EvictUntil(int targetSize)
    {
        while (_tableSize > targetSize)
        {
            var oldest = (_newest - _count + 1 + _entries.Length) % _entries.Length;
            _tableSize -= _entries[oldest].Size;
            _entries[oldest] = default;
            _count--;
        }
    }

    private static string ReadString(ReadOnlySpan<byte> block, ref int position)
    {
        if (position >= block.Length)
        {
            throw new InvalidDataException("HPACK header block ends where a string literal was expected.");
        }

        var huffman = (block[position] & 0x80) != 0;
        var length = ReadInteger(block, ref position, 7);
        if (length > block.Length - position)
        {
            throw new InvalidDataException(
                $"HPACK string literal of {length} octets runs past the end of the header block ({block.Length - position} octets left).");
        }

        var octets = block.Slice(position, length);
        position += length;
        return huffman ? HpackHuffman.Decode(octets) : Encoding.Latin1.GetString(octets);
    }

    // Section 5.1: an N-bit prefix, then 7 bits per continuation octet, least significant group first.
    private static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        if (position >= block.Length)
        {
            throw new InvalidDataException("HPACK header block ends where an integer was expected.");
        }

        var prefixMask = (1 << prefixBits) - 1;
        long value = block[position++] & prefixMask;
        if (value < prefixMask)
        {
            return (int)value;
        }

        for (var shift = 0; ; shift += 7)
        {
            if (position >= block.Length)
            {
                throw new InvalidDataException("HPACK integer is truncated at the end of the header block.");
            }

            // Past 5 continuation octets (35 bits) or int.MaxValue nothing meaningful can follow; refuse
            // rather than wrap.
            if (shift > 28)
            {
                throw new InvalidDataException("HPACK integer has too many continuation octets.");
            }

            var octet = block[position++];
            value += (long)(octet & 0x7F) << shift;
            if (value > int.MaxValue)
            {
                throw new InvalidDataException("HPACK integer overflows 32 bits.");
            }

            if ((octet & 0x80) == 0)
            {
                return (int)value;
            }
        }
    }

    private readonly record struct Entry(string Name, string Value, int Size);
}
