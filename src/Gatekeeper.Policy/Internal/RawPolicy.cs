namespace Gatekeeper.Policy.Internal;

/// <summary>A position in a policy file.</summary>
internal readonly record struct Loc(string File, int Line, int Column)
{
    public static Loc Of(string file, YNode node) => new(file, node.Line, node.Column);

    public PolicyError Error(string message) => new(File, Line, Column, message);

    public override string ToString() => $"{Path.GetFileName(File)}:{Line}:{Column}";
}

/// <summary>A reference to an id, where it was written.</summary>
internal readonly record struct IdRef(string Id, Loc Loc);

/// <summary>A definition in one of the vocabularies (categories, recipients, ...).</summary>
internal sealed class RawDefinition
{
    public RawDefinition(string id, Loc loc)
    {
        Id = id;
        Loc = loc;
    }

    public string Id { get; }

    public Loc Loc { get; }

    public string Description { get; set; } = string.Empty;

    /// <summary>Category: data-protection classes.</summary>
    public List<IdRef> Classes { get; } = [];

    /// <summary>Recipient: its class.</summary>
    public IdRef? RecipientClass { get; set; }

    /// <summary>Recipient: receives data as, or under, a health or social work professional (DPA 2018 s.11(1)).</summary>
    public bool HealthOrSocialWork { get; set; }

    /// <summary>Recipient: a processor acting on the council's instructions (Art 28), not a controller.</summary>
    public bool Processor { get; set; }

    /// <summary>Purpose: may only be named by deny rules.</summary>
    public bool RefuseOnly { get; set; }
}

/// <summary>"categories: [a, b]", "categories: '*'" or "categories: { all_except: [a] }".</summary>
internal sealed class RawSelector
{
    public RawSelector(Loc loc)
    {
        Loc = loc;
    }

    public Loc Loc { get; }

    public bool All { get; set; }

    public List<IdRef> Ids { get; } = [];

    public List<IdRef> Except { get; } = [];
}

internal enum DestinationKind
{
    Any,
    Uk,
    Abroad,
    Countries,
}

internal sealed class RawRule
{
    public RawRule(string id, Loc loc)
    {
        Id = id;
        Loc = loc;
    }

    public string Id { get; }

    public Loc Loc { get; }

    public int Order { get; set; }

    public IdRef? Effect { get; set; }

    public RawSelector? Categories { get; set; }

    public RawSelector? Recipients { get; set; }

    public List<IdRef>? RecipientClasses { get; set; }

    public RawSelector? Purposes { get; set; }

    public List<IdRef>? Form { get; set; }

    public List<IdRef>? Consent { get; set; }

    public List<IdRef>? StatusAnyOf { get; set; }

    public List<IdRef>? StatusNoneOf { get; set; }

    public DestinationKind Destination { get; set; }

    public Loc DestinationLoc { get; set; }

    public List<IdRef> Countries { get; } = [];

    public bool? SubjectRequest { get; set; }

    public List<IdRef>? SubjectIsMinor { get; set; }

    public IdRef? Article6 { get; set; }

    public IdRef? Article9 { get; set; }

    public IdRef? Article10 { get; set; }

    public List<string> Legislation { get; } = [];

    public Loc? LawfulBasisLoc { get; set; }

    public List<IdRef> Obligations { get; } = [];

    public string Reason { get; set; } = string.Empty;

    public string Source { get; set; } = string.Empty;
}

/// <summary>Everything the files of one policy declare, before any cross-reference is checked.</summary>
internal sealed class RawPolicy
{
    public IdRef? Label { get; set; }

    public List<RawDefinition> Categories { get; } = [];

    public List<RawDefinition> RecipientClasses { get; } = [];

    public List<RawDefinition> Recipients { get; } = [];

    public List<RawDefinition> Purposes { get; } = [];

    public List<RawDefinition> Statuses { get; } = [];

    public List<RawDefinition> Obligations { get; } = [];

    public List<RawRule> Rules { get; } = [];

    /// <summary>True once any file has a <c>callers</c> key, even an empty one.</summary>
    public bool CallersDeclared { get; set; }

    public List<RawCaller> Callers { get; } = [];
}
