namespace Gatekeeper.Telemetry.Otlp;

/// <summary>Reads the one thing a client needs from an ExportTraceServiceResponse: its partial_success.</summary>
internal static class ExportResponse
{
    /// <summary>
    /// Reads <c>partial_success</c> (field 1: <c>rejected_spans</c> = 1, <c>error_message</c> = 2). False when the
    /// response has none or cannot be read; unknown fields are skipped.
    /// </summary>
    public static bool TryReadPartialSuccess(ReadOnlySpan<byte> response, out long rejected, out string message)
    {
        rejected = 0;
        message = string.Empty;
        var found = false;
        var reader = new Reader(response);
        while (reader.Next(out var field, out var wire))
        {
            if (field == 1 && wire == 2 && reader.Bytes(out var partial))
            {
                found = true;
                var inner = new Reader(partial);
                while (inner.Next(out var innerField, out var innerWire))
                {
                    if (innerField == 1 && innerWire == 0 && inner.Varint(out var count))
                    {
                        rejected = (long)count;
                    }
                    else if (innerField == 2 && innerWire == 2 && inner.Bytes(out var text))
                    {
                        message = System.Text.Encoding.UTF8.GetString(text);
                    }
                    else if (!inner.Skip(innerWire))
                    {
                        return false;
                    }
                }
            }
            else if (!reader.Skip(wire))
            {
                return false;
            }
        }

        return found && !reader.Broken;
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _data = data;

        public bool Broken { get; private set; }

        public bool Next(out int field, out int wire)
        {
            field = wire = 0;
            if (_data.IsEmpty || !Varint(out var key))
            {
                return false;
            }

            field = (int)(key >> 3);
            wire = (int)(key & 7);
            return true;
        }

        public bool Varint(out ulong value)
        {
            value = 0;
            for (var shift = 0; shift < 64 && !_data.IsEmpty; shift += 7)
            {
                var b = _data[0];
                _data = _data[1..];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return true;
                }
            }

            Broken = true;
            return false;
        }

        public bool Bytes(out ReadOnlySpan<byte> bytes)
        {
            bytes = default;
            if (!Varint(out var length) || length > (ulong)_data.Length)
            {
                Broken = true;
                return false;
            }

            bytes = _data[..(int)length];
            _data = _data[(int)length..];
            return true;
        }

        public bool Skip(int wire)
        {
            var size = wire switch { 1 => 8, 5 => 4, _ => -1 };
            if (wire == 0)
            {
                return Varint(out _);
            }

            if (wire == 2)
            {
                return Bytes(out _);
            }

            if (size < 0 || size > _data.Length)
            {
                Broken = true;
                return false;
            }

            _data = _data[size..];
            return true;
        }
    }
}
