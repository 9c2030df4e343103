using Gatekeeper.Client;
using Gatekeeper.FunctionalTests.Infrastructure;
using Gatekeeper.Protocol;
using Gatekeeper.V1;

namespace Gatekeeper.FunctionalTests;

/// <summary>
/// Decide and DecideBatch end to end through Gatekeeper.Client. The policy will change, so answers are checked
/// for shape (a decision, ids, version); validation is checked exactly.
/// </summary>
public sealed class DecideTests : IClassFixture<GatekeeperServerFixture>, IDisposable
{
    private readonly GatekeeperClient _client;
    private readonly VerifyNoErrorsScope _errors;

    public DecideTests(GatekeeperServerFixture fixture)
    {
        _client = fixture.Client;
        _errors = fixture.Server.Logs.VerifyNoErrors();
    }

    public void Dispose() => _errors.Dispose();

    internal static DecideRequest Allowed(string requestId = "") => new()
    {
        Category = "health_disability",
        Recipient = "gp_surgery",
        Purpose = "social_care",
        RequestId = requestId,
    };

    [Fact]
    public async Task Decide_WellFormedRequest_ReturnsDecisionWithIdsAndPolicyVersion()
    {
        // Arrange
        var request = Allowed("req_functional_1");

        // Act
        var response = await _client.DecideAsync(request);

        // Assert
        Assert.NotEqual(Decision.Unspecified, response.Decision);
        Assert.False(string.IsNullOrEmpty(response.PolicyVersion));
        Assert.False(string.IsNullOrEmpty(response.DecisionId));
        Assert.False(string.IsNullOrEmpty(response.RuleId));
        Assert.Equal("req_functional_1", response.RequestId);
    }

    [Fact]
    public async Task Decide_SameRequestTwice_DecisionIdsDiffer()
    {
        // Arrange
        var request = Allowed("same");

        // Act
        var first = await _client.DecideAsync(request);
        var second = await _client.DecideAsync(request);

        // Assert
        Assert.NotEqual(first.DecisionId, second.DecisionId);
        Assert.Equal(first.Decision, second.Decision);
    }

    [Fact]
    public async Task Decide_ManyConcurrentCallsOnOneClient_AllAnswered()
    {
        // Arrange
        var calls = new Task<DecideResponse>[64];

        // Act
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = _client.DecideAsync(Allowed($"c{i}"));
        }

        var responses = await Task.WhenAll(calls);

        // Assert
        for (var i = 0; i < responses.Length; i++)
        {
            Assert.Equal($"c{i}", responses[i].RequestId);
        }

        Assert.Equal(responses.Length, responses.Select(r => r.DecisionId).Distinct().Count());
    }

    [Theory]
    [InlineData("category", "")]
    [InlineData("category", "Health_Disability")]
    [InlineData("category", "health-disability")]
    [InlineData("category", "héalth")]
    [InlineData("recipient", "gp surgery")]
    [InlineData("recipient", "gp_surgery\n")]
    [InlineData("purpose", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    [InlineData("purpose", "")]
    public async Task Decide_MalformedId_InvalidArgumentNamingTheField(string field, string value)
    {
        // Arrange
        var request = Allowed();
        switch (field)
        {
            case "category":
                request.Category = value;
                break;
            case "recipient":
                request.Recipient = value;
                break;
            default:
                request.Purpose = value;
                break;
        }

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.DecideAsync(request));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith(field + ":", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decide_UnknownDataFormValue_InvalidArgumentNamingContextForm()
    {
        // Arrange
        var request = Allowed();
        request.Context = new DecisionContext { Form = (DataForm)99 };

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.DecideAsync(request));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("context.form", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decide_UnknownConsentValue_InvalidArgumentNamingContextConsent()
    {
        // Arrange
        var request = Allowed();
        request.Context = new DecisionContext { Consent = (Consent)(-3) };

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.DecideAsync(request));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("context.consent", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decide_MalformedSubjectStatus_InvalidArgumentNamingItsIndex()
    {
        // Arrange
        var request = Allowed();
        request.Context = new DecisionContext { SubjectStatuses = { "deceased", "NOT AN ID" } };

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.DecideAsync(request));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("context.subject_statuses[1]", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decide_OverlongRequestId_InvalidArgumentNamingRequestId()
    {
        // Arrange
        var request = Allowed(new string('r', 10_000));

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.DecideAsync(request));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("request_id:", ex.Detail, StringComparison.Ordinal);
        Assert.True(ex.Detail.Length < 500, $"The message should not echo the whole field back: {ex.Detail.Length} chars.");
    }

    [Fact]
    public async Task DecideBatch_FiftyRequests_AnswersInRequestOrder()
    {
        // Arrange
        var batch = new DecideBatchRequest();
        for (var i = 0; i < 50; i++)
        {
            var request = Allowed($"b{i}");
            if (i % 3 == 0)
            {
                request.Category = "criminal_offence";
            }

            batch.Requests.Add(request);
        }

        // Act
        var response = await _client.DecideBatchAsync(batch);

        // Assert
        Assert.Equal(50, response.Responses.Count);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal($"b{i}", response.Responses[i].RequestId);
            Assert.NotEqual(Decision.Unspecified, response.Responses[i].Decision);
        }

        Assert.Equal(50, response.Responses.Select(r => r.DecisionId).Distinct().Count());
    }

    [Fact]
    public async Task DecideBatch_HundredRequests_Accepted()
    {
        // Arrange
        var batch = new DecideBatchRequest();
        batch.Requests.Add(Enumerable.Range(0, 100).Select(i => Allowed($"h{i}")));

        // Act
        var response = await _client.DecideBatchAsync(batch);

        // Assert
        Assert.Equal(100, response.Responses.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task DecideBatch_SizeOutsideOneToHundred_InvalidArgumentNamingRequests(int count)
    {
        // Arrange
        var batch = new DecideBatchRequest();
        batch.Requests.Add(Enumerable.Range(0, count).Select(i => Allowed($"x{i}")));

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.DecideBatchAsync(batch));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("requests:", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DecideBatch_OneMalformedRequest_InvalidArgumentNamingItsIndexAndField()
    {
        // Arrange
        var batch = new DecideBatchRequest { Requests = { Allowed("a"), Allowed("b"), Allowed("c") } };
        batch.Requests[2].Recipient = "GP";

        // Act
        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.DecideBatchAsync(batch));

        // Assert
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.StartsWith("requests[2].recipient:", ex.Detail, StringComparison.Ordinal);
    }
}
