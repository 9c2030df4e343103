using Gatekeeper.Caching;
using Gatekeeper.Policy;

namespace Gatekeeper.Tests.Caching;

public sealed class DecisionKeyTests
{
    private static DecisionKey Key(string version = "v1", string country = "", bool? minor = null, params string[] statuses) =>
        DecisionKey.For(version, new PolicyQuery("education", "police", "child_protection", DataForm.Identifiable, Consent.Unknown, statuses, country, false, minor));

    [Fact]
    public void For_StatusesInAnyOrderOrRepeated_GiveTheSameKey()
    {
        Assert.Equal(Key(statuses: ["looked_after", "child_in_need"]), Key(statuses: ["child_in_need", "looked_after", "child_in_need"]));
        Assert.Equal(Key(statuses: ["looked_after", "child_in_need"]).ToText(), Key(statuses: ["child_in_need", "looked_after"]).ToText());
    }

    [Fact]
    public void For_GbAndEmptyCountry_AreBothTheUk()
    {
        Assert.Equal(Key(country: "GB"), Key(country: ""));
        Assert.NotEqual(Key(country: "FR"), Key(country: ""));
    }

    [Fact]
    public void For_DifferentPolicyVersion_IsADifferentKey()
    {
        Assert.NotEqual(Key(version: "v1"), Key(version: "v2"));
        Assert.NotEqual(Key(version: "v1").ToText(), Key(version: "v2").ToText());
    }

    [Fact]
    public void For_MinorUnknownFalseTrue_AreThreeKeys()
    {
        Assert.NotEqual(Key(minor: null), Key(minor: false));
        Assert.NotEqual(Key(minor: false), Key(minor: true));
        Assert.NotEqual(Key(minor: null).ToText(), Key(minor: true).ToText());
    }

    [Fact]
    public void For_EveryContextField_ChangesTheKey()
    {
        var baseline = new PolicyQuery("education", "police", "child_protection");
        PolicyQuery[] variants =
        [
            baseline with { Category = "housing" },
            baseline with { Recipient = "court_uk" },
            baseline with { Purpose = "research" },
            baseline with { Form = DataForm.Anonymised },
            baseline with { Consent = Consent.Given },
            baseline with { SubjectRequest = true },
            baseline with { SubjectStatuses = ["early_help"] },
            baseline with { DestinationCountry = "IE" },
        ];
        var texts = new HashSet<string>(StringComparer.Ordinal) { DecisionKey.For("v", baseline).ToText() };
        foreach (var variant in variants)
        {
            Assert.True(texts.Add(DecisionKey.For("v", variant).ToText()), variant.ToString());
            Assert.NotEqual(DecisionKey.For("v", baseline), DecisionKey.For("v", variant));
        }
    }
}
