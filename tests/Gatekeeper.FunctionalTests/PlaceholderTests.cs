namespace Gatekeeper.FunctionalTests;

public sealed class PlaceholderTests
{
    [Fact]
    public void Project_Builds_AndRuns() => Assert.True(true);
}
