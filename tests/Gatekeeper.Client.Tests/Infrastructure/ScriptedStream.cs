namespace Gatekeeper.Client.Tests.Infrastructure;

/// <summary>
/// A response body: gives <paramref name="data"/>, then either ends, waits until the read is cancelled, or throws.
/// Records how much was read and whether it was disposed (which is what resets the HTTP/2 stream).
/// </summary>
internal sealed class ScriptedStream(byte[] data, bool hangAtEnd = false, Exception? failAtEnd = null) : Stream
{
    private int _position;

    public int BytesRead => _position;

    public bool Disposed { get; private set; }

    public TaskCompletionSource Hanging { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position < data.Length)
        {
            // Small reads, as a network would give them, so that the client must loop.
            var n = Math.Min(Math.Min(buffer.Length, data.Length - _position), 3);
            data.AsSpan(_position, n).CopyTo(buffer.Span);
            _position += n;
            return n;
        }

        if (failAtEnd is not null)
        {
            throw failAtEnd;
        }

        if (hangAtEnd)
        {
            Hanging.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }
}
