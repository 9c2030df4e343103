namespace Gatekeeper.Audit.Tests.Support;

public static class Records
{
    public static AuditRecord Sample(
        string? decisionId = null,
        string recipient = "police",
        string category = "child_protection",
        string decision = AuditDecisions.Deny,
        string subject = "",
        DateTimeOffset time = default,
        string reason = "no_rule_matched") =>
        new()
        {
            DecisionId = decisionId ?? DecisionIds.New(),
            Time = time,
            Caller = "10.0.0.7:51234",
            RequestId = "req-" + Guid.NewGuid().ToString("N")[..8],
            Category = category,
            Recipient = recipient,
            Purpose = "crime_prevention",
            Context = """{ "form": "identifiable", "consent": "unknown", "subject_statuses": ["child_protection_plan"] }""",
            Decision = decision,
            RuleId = "cp-police-safeguarding",
            PolicyVersion = "2026.11.1",
            LawfulBasis = new AuditLawfulBasis("6(1)(e)", "9(2)(g)", "10", ["DPA 2018 Sch1 Pt2 para 18"]),
            Obligations = decision == AuditDecisions.AllowWithConditions ? ["minimise", "record_reasons"] : [],
            Reason = reason,
            FromCache = AuditCacheResults.Miss,
            TraceId = "4bf92f3577b34da6a3ce929d0e0e4736",
            SubjectRef = subject,
        };
}
