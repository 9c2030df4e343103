namespace Gatekeeper.LoadTests;

/// <summary>
/// The ids of ../shared/TAXONOMY.md: the universe a scenario's weights range over. A weight may also name
/// an id that is not here (a council's own, or a deliberately unknown one to exercise the deny path).
/// </summary>
internal static class Taxonomy
{
    public static readonly string[] Categories =
    [
        "identity_contact", "cpis_flag", "social_care_case", "child_protection", "health_disability", "substance_misuse",
        "equality_data", "criminal_offence", "financial_payment", "education", "housing", "programme_progress",
    ];

    public static readonly string[] Recipients =
    [
        "court_uk", "court_abroad",
        "other_local_authority", "childrens_services_abroad", "adult_social_care", "safeguarding_partnership",
        "police", "probation", "youth_offending_service",
        "nhs_cpis", "gp_surgery", "health_agency", "substance_misuse_team",
        "education_provider",
        "housing_provider", "supported_living_provider", "care_provider", "transport_provider",
        "dfe", "dwp", "mhclg", "cabinet_office_nfi", "moj", "dhsc",
        "cqc", "dbs",
        "prepaid_card_provider", "direct_payment_support", "funding_body",
        "it_contractor",
        "university_training", "university_research",
        "voluntary_sector_partner",
        "elected_member", "mp",
        "media", "private_individual", "commercial_third_party",
    ];

    public static readonly string[] Purposes =
    [
        "family_help", "social_care", "child_protection", "cpis_alert", "crime_prevention", "court_liaison",
        "service_planning", "statutory_reporting", "research", "consultation", "programme_evaluation",
        "troubled_families", "fraud_prevention", "payment_administration", "regulatory_inspection", "vetting_barring",
        "social_work_training", "representation", "equality_monitoring", "it_processing",
        "benefit_or_service_decision", "publication", "marketing", "processor_own_use",
    ];

    public static readonly string[] Forms = ["identifiable", "pseudonymised", "anonymised"];

    public static readonly string[] Consents = ["unknown", "given", "refused", "withdrawn"];

    public static readonly string[] SubjectStatuses = ["looked_after", "child_protection_plan", "child_in_need", "early_help", "care_leaver"];

    public static readonly string[] MinorValues = ["unknown", "true", "false"];
}
