using System.Security.Cryptography;
using System.Text;

namespace Gatekeeper.Policy.Internal;

/// <summary>One policy file, read and parsed.</summary>
internal sealed class PolicySource
{
    public PolicySource(string file, byte[] bytes, YNode? root)
    {
        File = file;
        Bytes = bytes;
        Root = root;
    }

    public string File { get; }

    public byte[] Bytes { get; }

    public YNode? Root { get; }
}

/// <summary>Finds, reads (size-capped, strict UTF-8) and parses the files of one policy.</summary>
internal static class PolicySources
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static List<string> ListPolicyFiles(string path)
    {
        if (File.Exists(path))
        {
            return [path];
        }

        var files = new List<string>();
        if (Directory.Exists(path))
        {
            foreach (var f in Directory.EnumerateFiles(path, "*.yaml", SearchOption.TopDirectoryOnly))
            {
                if (!f.EndsWith(PolicyLoader.TestFileSuffix, StringComparison.Ordinal))
                {
                    files.Add(f);
                }
            }
        }

        // Ordinal order makes rule order, and so the content hash, independent of the file system.
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    public static List<PolicySource> Read(string path, PolicyLoaderOptions options, List<PolicyError> errors)
    {
        var result = new List<PolicySource>();
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            errors.Add(new PolicyError(path, 0, 0, "policy path not found; give a policy file or a folder of *.yaml files"));
            return result;
        }

        var files = ListPolicyFiles(path);
        if (files.Count == 0)
        {
            errors.Add(new PolicyError(path, 0, 0, "no policy files (*.yaml other than *.tests.yaml) in this folder"));
            return result;
        }

        long total = 0;
        foreach (var file in files)
        {
            byte[] bytes;
            try
            {
                long length = new FileInfo(file).Length;
                total += length;
                if (length > options.MaxFileBytes)
                {
                    // Checked before reading so that a huge file costs nothing.
                    errors.Add(new PolicyError(file, 0, 0, $"file is {length} bytes, over the {options.MaxFileBytes}-byte limit; split the policy into several files or raise the limit"));
                    continue;
                }

                if (total > options.MaxTotalBytes)
                {
                    errors.Add(new PolicyError(file, 0, 0, $"the policy's files add up to more than the {options.MaxTotalBytes}-byte limit; remove files that are not policy or raise the limit"));
                    break;
                }

                bytes = ReadCapped(file, options.MaxFileBytes);
            }
            catch (InvalidDataException)
            {
                errors.Add(new PolicyError(file, 0, 0, $"file grew past the {options.MaxFileBytes}-byte limit while being read; split the policy or raise the limit"));
                continue;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                errors.Add(new PolicyError(file, 0, 0, "cannot read the file: " + ex.Message));
                continue;
            }

            string text;
            try
            {
                text = StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException ex)
            {
                errors.Add(new PolicyError(file, 0, 0, $"not UTF-8 text (bad byte at offset {ex.Index}); policy files are UTF-8 YAML"));
                continue;
            }

            if (text.Length > 0 && text[0] == '\uFEFF')
            {
                text = text[1..];
            }

            var root = YamlTree.Parse(file, text, options.MaxDepth, errors);
            result.Add(new PolicySource(file, bytes, root));
        }

        return result;
    }

    // The length was checked before opening, but a file can grow in between (an editor still
    // writing): never read more than the limit.
    private static byte[] ReadCapped(string file, long max)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > max)
            {
                throw new InvalidDataException();
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// "sha256:" + the first 16 hex digits of a hash over every file's name and bytes, so that two
    /// servers with the same files report the same version and any edit changes it.
    /// </summary>
    public static string ContentHash(IReadOnlyList<PolicySource> sources)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[8];
        foreach (var s in sources)
        {
            var name = Encoding.UTF8.GetBytes(Path.GetFileName(s.File));
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(length, name.Length);
            hash.AppendData(length);
            hash.AppendData(name);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(length, s.Bytes.Length);
            hash.AppendData(length);
            hash.AppendData(s.Bytes);
        }

        return "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset(), 0, 8);
    }
}
