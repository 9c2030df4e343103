using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Audit.Internal;

/// <summary>
/// The audit key: HMACs subject references (so the log can be searched for a person without holding their
/// identifier) and, through a derived key, signs checkpoints (so a forged purge cut or a rewritten chain is
/// detected by anyone holding the key).
/// </summary>
internal sealed class AuditKey
{
    private const int GeneratedKeyLength = 32;

    private readonly byte[] _subjectKey;
    private readonly byte[] _checkpointKey;

    private AuditKey(byte[] key)
    {
        _subjectKey = key;
        // Domain separation: a subject HMAC can never double as a checkpoint signature.
        _checkpointKey = HMACSHA256.HashData(key, "gatekeeper.audit.checkpoint.v1"u8);
        Id = Convert.ToHexStringLower(HMACSHA256.HashData(key, "gatekeeper.audit.key-id.v1"u8).AsSpan(0, 8));
    }

    /// <summary>Fingerprint stored in the database so that opening a log with the wrong key fails loudly.</summary>
    public string Id { get; }

    public static AuditKey FromBytes(byte[] key) => new(key);

    /// <summary>The configured key, else the key file, else (when allowed) a newly generated key file.</summary>
    public static AuditKey? Load(AuditOptions options, bool createIfMissing, ILogger? logger)
    {
        if (options.SubjectHmacKey is { } configured)
        {
            return new AuditKey(Convert.FromBase64String(configured));
        }

        var path = options.KeyFilePath;
        if (File.Exists(path))
        {
            WarnIfReadableByOthers(path, logger);
            return new AuditKey(ReadKeyFile(path));
        }

        if (!createIfMissing)
        {
            return null;
        }

        var key = RandomNumberGenerator.GetBytes(GeneratedKeyLength);
        try
        {
            // UnixCreateMode applies 0600 at creation: there is no moment when the key is readable by others.
            var fileOptions = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
            };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(path, fileOptions))
            {
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(key) + "\n"));
                stream.Flush(flushToDisk: true);
            }

            DirectorySync.Sync(options.DataDirectory);
            if (logger is not null)
            {
                AuditLogMessages.KeyGenerated(logger, path);
            }

            return new AuditKey(key);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs, so both hash subjects alike.
            return new AuditKey(ReadKeyFile(path));
        }
    }

    public string HashSubject(string subjectRef) =>
        subjectRef.Length == 0
            ? ""
            : Convert.ToHexStringLower(HMACSHA256.HashData(_subjectKey, Encoding.UTF8.GetBytes(subjectRef)));

    /// <summary>MAC over kind, sequence and hash: binds a checkpoint to its exact position in the chain.</summary>
    public byte[] SignCheckpoint(string kind, long sequence, ReadOnlySpan<byte> hash)
    {
        var kindBytes = Encoding.UTF8.GetBytes(kind);
        var message = new byte[kindBytes.Length + 1 + 8 + hash.Length];
        kindBytes.CopyTo(message, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(message.AsSpan(kindBytes.Length + 1), sequence);
        hash.CopyTo(message.AsSpan(kindBytes.Length + 9));
        return HMACSHA256.HashData(_checkpointKey, message);
    }

    public bool VerifyCheckpoint(string kind, long sequence, ReadOnlySpan<byte> hash, ReadOnlySpan<byte> mac) =>
        CryptographicOperations.FixedTimeEquals(SignCheckpoint(kind, sequence, hash), mac);

    private static byte[] ReadKeyFile(string path)
    {
        var text = File.ReadAllText(path).Trim();
        var key = Convert.FromBase64String(text);
        if (key.Length < 16)
        {
            throw new InvalidOperationException($"The audit key file '{path}' holds {key.Length} bytes; at least 16 are required.");
        }

        return key;
    }

    private static void WarnIfReadableByOthers(string path, ILogger? logger)
    {
        if (OperatingSystem.IsWindows() || logger is null)
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        if ((mode & others) != 0)
        {
            AuditLogMessages.KeyFileTooOpen(logger, path, Convert.ToString((int)mode, 8));
        }
    }
}
