using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// BenchmarkDotNet builds a generated project before measuring; on a shared 2-core machine that build can take
// longer than its default two-minute limit, so allow ten.
ManualConfig config = ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(10));

// Pass BenchmarkDotNet's own arguments through: --filter '*', --job short, --list flat, ... (see benchmarks/README.md).
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
