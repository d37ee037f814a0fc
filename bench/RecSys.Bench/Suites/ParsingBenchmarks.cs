using BenchmarkDotNet.Attributes;
using RecSys.Engine.Data;

namespace RecSys.Bench.Suites;

/// <summary>Delimited file parsing, rows per second = Rows / time.</summary>
public class ParsingBenchmarks
{
    private string _path = "";

    [Params(1_000_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup() => _path = BenchData.WriteTsv(Rows);

    [Benchmark]
    public int ParseTsv() => new DelimitedFileReader(_path, DelimitedFormat.Tsv).Read().Table.Count;
}
