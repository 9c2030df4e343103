using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Gatekeeper.Policy.Internal;

/// <summary>A YAML node with its position, so that every later error can point at the source.</summary>
internal abstract class YNode
{
    protected YNode(int line, int column)
    {
        Line = line;
        Column = column;
    }

    public int Line { get; }

    public int Column { get; }

    public abstract string Kind { get; }
}

internal sealed class YScalar : YNode
{
    public YScalar(string value, bool isPlain, int line, int column)
        : base(line, column)
    {
        Value = value;
        IsPlain = isPlain;
    }

    public string Value { get; }

    /// <summary>Unquoted: only then do null/~/true/false have their YAML meaning.</summary>
    public bool IsPlain { get; }

    public bool IsNull => IsPlain && (Value.Length == 0 || Value is "~" or "null" or "Null" or "NULL");

    public override string Kind => "a single value";
}

internal sealed class YSequence : YNode
{
    public YSequence(int line, int column)
        : base(line, column)
    {
    }

    public List<YNode> Items { get; } = [];

    public override string Kind => "a list";
}

internal sealed class YMapping : YNode
{
    public YMapping(int line, int column)
        : base(line, column)
    {
    }

    public List<KeyValuePair<YScalar, YNode>> Entries { get; } = [];

    public override string Kind => "a mapping";
}

/// <summary>
/// Builds a <see cref="YNode"/> tree from YamlDotNet's event parser rather than its deserializer, so
/// that hostile input is refused before it can cost anything: aliases are rejected (no billion laughs,
/// no self-reference), nesting is capped (no stack exhaustion), duplicate keys are errors (a second
/// "rules:" silently replacing the first would drop rules). Parsing is streaming and linear in the
/// input, whose size the caller has already capped.
/// </summary>
internal static partial class YamlTree
{
    public static YNode? Parse(string file, string text, int maxDepth, List<PolicyError> errors)
    {
        var parser = new Parser(new Scanner(new StringReader(text), skipComments: true));
        var stack = new List<YNode>();
        var pendingKeys = new List<YScalar?>();
        YNode? root = null;
        int documents = 0;
        try
        {
            while (parser.MoveNext())
            {
                var evt = parser.Current!;
                int line = ToInt(evt.Start.Line);
                int column = ToInt(evt.Start.Column);
                switch (evt)
                {
                    case DocumentStart:
                        documents++;
                        if (documents > 1)
                        {
                            errors.Add(new PolicyError(file, line, column, "more than one YAML document in one file; put each part of the policy in its own file"));
                            return null;
                        }

                        break;
                    case AnchorAlias:
                        errors.Add(new PolicyError(file, line, column, "YAML aliases (*name) are not allowed in policy files: write the values out in full so that reviewers see exactly what a rule says"));
                        Add(new YScalar(string.Empty, isPlain: true, line, column));
                        break;
                    case Scalar s:
                        Add(new YScalar(s.Value, s.Style == ScalarStyle.Plain, line, column));
                        break;
                    case SequenceStart:
                        if (!Push(new YSequence(line, column)))
                        {
                            return null;
                        }

                        break;
                    case MappingStart:
                        if (!Push(new YMapping(line, column)))
                        {
                            return null;
                        }

                        break;
                    case SequenceEnd:
                    case MappingEnd:
                        var done = stack[^1];
                        stack.RemoveAt(stack.Count - 1);
                        pendingKeys.RemoveAt(pendingKeys.Count - 1);
                        if (stack.Count == 0)
                        {
                            root = done;
                        }
                        else
                        {
                            Attach(done);
                        }

                        break;
                    default:
                        break;
                }
            }
        }
        catch (YamlException ex)
        {
            errors.Add(new PolicyError(file, ToInt(ex.Start.Line), ToInt(ex.Start.Column), "YAML syntax error: " + StripMark(ex.Message) + "; fix the YAML (indentation, quotes, ':' after keys)"));
            return null;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            errors.Add(new PolicyError(file, 0, 0, "the file could not be read as YAML (" + ex.GetType().Name + "); check that it is a UTF-8 YAML text file"));
            return null;
        }

        return root;

        bool Push(YNode node)
        {
            if (stack.Count >= maxDepth)
            {
                errors.Add(new PolicyError(file, node.Line, node.Column, $"YAML nested deeper than {maxDepth} levels; a policy needs at most 6, so this is not a policy file"));
                return false;
            }

            stack.Add(node);
            pendingKeys.Add(null);
            return true;
        }

        void Add(YScalar scalar)
        {
            if (stack.Count == 0)
            {
                root = scalar;
                return;
            }

            if (stack[^1] is YMapping && pendingKeys[^1] is null)
            {
                pendingKeys[^1] = scalar;
                return;
            }

            Attach(scalar);
        }

        void Attach(YNode node)
        {
            switch (stack[^1])
            {
                case YSequence seq:
                    seq.Items.Add(node);
                    break;
                case YMapping map:
                    var key = pendingKeys[^1];
                    if (key is null)
                    {
                        // A mapping or list used as a key: valid YAML, meaningless in a policy. Keep a
                        // placeholder key so that its value is still paired correctly.
                        errors.Add(new PolicyError(file, node.Line, node.Column, "a key must be a single value, not " + node.Kind));
                        pendingKeys[^1] = new YScalar("\0complex", isPlain: false, node.Line, node.Column);
                        return;
                    }

                    pendingKeys[^1] = null;
                    foreach (var entry in map.Entries)
                    {
                        if (entry.Key.Value == key.Value)
                        {
                            errors.Add(new PolicyError(file, key.Line, key.Column, $"duplicate key '{key.Value}' (first at line {entry.Key.Line}); YAML would silently keep only one: merge them"));
                            return;
                        }
                    }

                    map.Entries.Add(new KeyValuePair<YScalar, YNode>(key, node));
                    break;
                default:
                    break;
            }
        }
    }

    private static int ToInt(long value) => value > int.MaxValue ? int.MaxValue : (int)value;

    // YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (Line: ...): "; we give the
    // position separately, so keep only the text.
    private static string StripMark(string message) => MarkPrefix().Replace(message, string.Empty);

    [GeneratedRegex(@"^\(Line: [^)]*\) - \(Line: [^)]*\): ")]
    private static partial Regex MarkPrefix();
}
