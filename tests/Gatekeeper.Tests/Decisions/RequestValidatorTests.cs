using Gatekeeper.Decisions;
using Gatekeeper.Protocol;
using Gatekeeper.Transport;
using Gatekeeper.V1;

namespace Gatekeeper.Tests.Decisions;

public sealed class RequestValidatorTests
{
    private static DecideRequest Valid() => new()
    {
        Category = "health_disability",
        Recipient = "gp_surgery",
        Purpose = "social_care",
        RequestId = "req-1",
        Context = new DecisionContext { DestinationCountry = "FR", SubjectStatuses = { "child_in_need" } },
    };

    private static string Fails(DecideRequest request)
    {
        var ex = Assert.Throws<RpcException>(() => RequestValidator.Validate(request));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        return ex.Detail;
    }

    [Fact]
    public void Validate_WellFormedRequest_Passes()
    {
        RequestValidator.Validate(Valid());
        RequestValidator.Validate(new DecideRequest { Category = "a", Recipient = "b", Purpose = "c" });
    }

    [Theory]
    [InlineData("")]
    [InlineData("Health")]
    [InlineData("health-disability")]
    [InlineData("health disability")]
    [InlineData("héalth")]
    [InlineData("health\0")]
    [InlineData("\uFFFD")]
    public void Validate_BadCategory_NamesTheField(string category)
    {
        var request = Valid();
        request.Category = category;
        Assert.StartsWith("category:", Fails(request), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_IdOf64Chars_PassesAnd65Fails()
    {
        var request = Valid();
        request.Recipient = new string('a', 64);
        RequestValidator.Validate(request);
        request.Recipient = new string('a', 65);
        Assert.StartsWith("recipient:", Fails(request), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_HugeId_EchoesOnlyAShortPrefix()
    {
        var request = Valid();
        request.Purpose = new string('X', 100_000);
        var detail = Fails(request);
        Assert.StartsWith("purpose:", detail, StringComparison.Ordinal);
        Assert.True(detail.Length < 200, detail);
    }

    [Fact]
    public void Validate_UnknownEnumValue_NamesTheField()
    {
        var request = Valid();
        request.Context.Form = (DataForm)7;
        Assert.StartsWith("context.form:", Fails(request), StringComparison.Ordinal);
        request = Valid();
        request.Context.Consent = (Consent)(-1);
        Assert.StartsWith("context.consent:", Fails(request), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("G")]
    [InlineData("GBR")]
    [InlineData("1A")]
    [InlineData("ÉÉ")]
    public void Validate_BadCountry_NamesTheField(string country)
    {
        var request = Valid();
        request.Context.DestinationCountry = country;
        Assert.StartsWith("context.destination_country:", Fails(request), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadStatus_NamesItsIndex()
    {
        var request = Valid();
        request.Context.SubjectStatuses.Add("Looked After");
        Assert.StartsWith("context.subject_statuses[1]:", Fails(request), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TooManyStatuses_Fails()
    {
        var request = Valid();
        for (var i = 0; i < RequestValidator.MaxSubjectStatuses; i++)
        {
            request.Context.SubjectStatuses.Add("early_help");
        }

        Assert.StartsWith("context.subject_statuses:", Fails(request), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_LongOrControlCharacterRequestId_Fails()
    {
        var request = Valid();
        request.RequestId = new string('r', RequestValidator.MaxRequestIdLength + 1);
        Assert.StartsWith("request_id:", Fails(request), StringComparison.Ordinal);
        request.RequestId = "a\nb";
        Assert.StartsWith("request_id:", Fails(request), StringComparison.Ordinal);
        request = Valid();
        request.SubjectRef = new string('s', RequestValidator.MaxSubjectRefLength + 1);
        Assert.StartsWith("subject_ref:", Fails(request), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public void Validate_BatchOutOfRange_Fails(int count)
    {
        var batch = new DecideBatchRequest();
        for (var i = 0; i < count; i++)
        {
            batch.Requests.Add(Valid());
        }

        var ex = Assert.Throws<RpcException>(() => RequestValidator.Validate(batch));
        Assert.StartsWith("requests:", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BatchWithOneBadRequest_NamesItsIndex()
    {
        var batch = new DecideBatchRequest { Requests = { Valid(), Valid(), Valid() } };
        batch.Requests[2].Purpose = "NOPE";
        var ex = Assert.Throws<RpcException>(() => RequestValidator.Validate(batch));
        Assert.StartsWith("requests[2].purpose:", ex.Detail, StringComparison.Ordinal);
    }
}
