using Gatekeeper.Policy.Internal;

namespace Gatekeeper.Policy;

/// <summary>
/// The <c>policy</c> command line: <c>validate PATH</c> and <c>test PATH</c>. The service's Program
/// calls <see cref="Run"/> with the arguments after "policy".
/// </summary>
public static class PolicyCli
{
    /// <summary>Exit code for success.</summary>
    public const int Ok = 0;

    /// <summary>Exit code when the policy is invalid or a test failed.</summary>
    public const int Failed = 1;

    /// <summary>Exit code for a usage error.</summary>
    public const int Usage = 2;

    private const string UsageText = """
        usage: policy validate PATH   check a policy file or folder; prints file:line:col: message per error
               policy test PATH       load the policy at PATH and run every *.tests.yaml in it
        """;

    /// <summary>Runs a policy command; returns the process exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (args.Length != 2 || args[0] is not ("validate" or "test"))
        {
            stderr.WriteLine(UsageText);
            return Usage;
        }

        string path = args[1];
        var result = PolicyLoader.LoadPath(path);
        if (result.Policy is not { } policy)
        {
            foreach (var error in result.Errors)
            {
                stderr.WriteLine(error.ToString());
            }

            stderr.WriteLine($"policy invalid: {result.Errors.Count} error(s)");
            return Failed;
        }

        if (args[0] == "validate")
        {
            stdout.WriteLine($"policy valid: version {policy.Version}, {policy.RuleIds.Count} rules");
            return Ok;
        }

        return Test(path, policy, stdout, stderr);
    }

    private static int Test(string path, CompiledPolicy policy, TextWriter stdout, TextWriter stderr)
    {
        var files = PolicyTestRunner.FindTestFiles(path);
        if (files.Count == 0)
        {
            stderr.WriteLine($"{path}: no *{PolicyLoader.TestFileSuffix} files to run");
            return Failed;
        }

        var errors = new List<PolicyError>();
        var cases = new List<PolicyTestCase>();
        foreach (var file in files)
        {
            cases.AddRange(PolicyTestRunner.Parse(file, PolicyLoaderOptions.Default, errors));
        }

        foreach (var error in errors)
        {
            stderr.WriteLine(error.ToString());
        }

        stdout.WriteLine($"policy {policy.Version}: {cases.Count} cases in {files.Count} file(s)");
        var report = PolicyTestRunner.Run(policy, cases, stdout);
        if (report.UncoveredRules.Count > 0)
        {
            stdout.WriteLine($"warning: rules that no passing case is decided by: {string.Join(", ", report.UncoveredRules)}");
        }

        if (report.SeedsWithoutAllow.Count > 0)
        {
            stdout.WriteLine($"note: seed statements with no allow case: {string.Join(", ", report.SeedsWithoutAllow)}");
        }

        if (report.SeedsWithoutDeny.Count > 0)
        {
            stdout.WriteLine($"note: seed statements with no deny case: {string.Join(", ", report.SeedsWithoutDeny)}");
        }

        stdout.WriteLine($"{report.Passed} passed, {report.Failed} failed");
        if (errors.Count > 0)
        {
            stdout.WriteLine($"{errors.Count} error(s) in test files");
        }

        return report.Failed == 0 && errors.Count == 0 ? Ok : Failed;
    }
}
