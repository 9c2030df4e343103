using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Gatekeeper.Audit.Internal;

/// <summary>
/// SHA-256 for the writer's hash chain, through OpenSSL's plain SHA256_Init/Update/Final when the process can load
/// them. .NET's <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/> goes through OpenSSL 3's EVP layer,
/// which allocates, initialises and frees a digest context per call: ~1.8 µs for a record of ~1 KB, of which
/// ~1 µs is that set-up, on the single writer thread. The plain functions hash the same bytes in ~0.8 µs with the
/// same CPU instructions (SHA-NI where present). Used only if a self-test against .NET's SHA-256 passes at start;
/// otherwise, and off Linux, .NET's own. The verifier keeps .NET's, so every verify cross-checks the two.
/// </summary>
internal static unsafe class ChainSha256
{
    // OpenSSL's SHA256_CTX is 112 bytes (eight state words, two length words, a 64-byte block, two counters).
    private const int ContextBytes = 256;

    private static readonly delegate* unmanaged<byte*, int> Init;
    private static readonly delegate* unmanaged<byte*, byte*, nuint, int> Update;
    private static readonly delegate* unmanaged<byte*, byte*, int> Final;

    static ChainSha256()
    {
        if (!OperatingSystem.IsLinux()
            || !NativeLibrary.TryLoad("libcrypto.so.3", out var library)
            || !NativeLibrary.TryGetExport(library, "SHA256_Init", out var init)
            || !NativeLibrary.TryGetExport(library, "SHA256_Update", out var update)
            || !NativeLibrary.TryGetExport(library, "SHA256_Final", out var final))
        {
            return;
        }

        Init = (delegate* unmanaged<byte*, int>)init;
        Update = (delegate* unmanaged<byte*, byte*, nuint, int>)update;
        Final = (delegate* unmanaged<byte*, byte*, int>)final;
        if (!SelfTest())
        {
            Init = null;
        }
    }

    /// <summary>Whether the plain OpenSSL functions are in use (else .NET's SHA-256).</summary>
    public static bool IsNative => Init != null;

    public static byte[] HashData(ReadOnlySpan<byte> source)
    {
        var hash = new byte[RecordFormat.HashLength];
        HashData(source, hash);
        return hash;
    }

    private static void HashData(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (Init == null)
        {
            SHA256.HashData(source, destination);
            return;
        }

        var context = stackalloc byte[ContextBytes];
        fixed (byte* data = source)
        fixed (byte* digest = destination)
        {
            if (Init(context) != 1 || Update(context, data, (nuint)source.Length) != 1 || Final(digest, context) != 1)
            {
                throw new CryptographicException("OpenSSL SHA256_Init/Update/Final failed.");
            }
        }
    }

    // Lengths around the 55/56/64-byte padding boundaries and several blocks.
    private static bool SelfTest()
    {
        var data = new byte[1000];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i * 31 + 7);
        }

        Span<byte> ours = stackalloc byte[RecordFormat.HashLength];
        foreach (var length in (ReadOnlySpan<int>)[0, 1, 55, 56, 63, 64, 65, 119, 120, 1000])
        {
            HashData(data.AsSpan(0, length), ours);
            if (!ours.SequenceEqual(SHA256.HashData(data.AsSpan(0, length))))
            {
                return false;
            }
        }

        return true;
    }
}
