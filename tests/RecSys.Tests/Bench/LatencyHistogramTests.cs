using RecSys.Bench.Load;

namespace RecSys.Tests.Bench;

public class LatencyHistogramTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    [InlineData(12_345)]
    public void Percentiles_are_the_nearest_rank_of_the_sorted_samples(int count)
    {
        var random = new Random(count);
        var samples = Enumerable.Range(0, count).Select(_ => (long)(random.NextDouble() * random.NextDouble() * 50_000)).ToArray();
        var histogram = new LatencyHistogram();
        foreach (long sample in samples) histogram.Record(sample);

        Array.Sort(samples);
        foreach (double percent in new[] { 0.0, 1, 50, 90, 99, 99.9, 100 })
        {
            long rank = Math.Max(1, (long)Math.Ceiling(percent / 100 * count));
            Assert.Equal(samples[rank - 1], histogram.Percentile(percent));
        }
        Assert.Equal(count, histogram.Count);
        Assert.Equal(samples[^1], histogram.Max);
    }

    [Fact]
    public void Values_past_the_limit_stay_in_the_tail_and_are_counted()
    {
        var histogram = new LatencyHistogram(limitMicros: 1000);
        histogram.Record(10);
        histogram.Record(5000);
        Assert.Equal(1, histogram.Over);
        Assert.Equal(1000, histogram.Max);
        Assert.Equal(1000, histogram.Percentile(100));
        Assert.Throws<ArgumentOutOfRangeException>(() => histogram.Record(-1));
        Assert.Throws<InvalidOperationException>(() => new LatencyHistogram().Percentile(50));
    }

    [Fact]
    public void Correction_adds_the_requests_a_stall_held_back_as_wrk_does()
    {
        // Interval 100 µs: a 1,000 µs answer stands for the requests that would have been sent at
        // 100, 200, … µs into the stall and waited 900, 800, … 200 µs; answers below 200 µs add nothing.
        var histogram = new LatencyHistogram();
        histogram.Record(50, times: 10);
        histogram.Record(199);
        histogram.Record(1000, times: 2);

        LatencyHistogram corrected = histogram.CorrectedForCoordinatedOmission(100);

        Assert.Equal(10 + 1 + 2 + 2 * 8, corrected.Count);
        Assert.Equal(1000, corrected.Max);
        // Sorted: 50 ×10, 199, 200 ×2, 300 ×2, …, 900 ×2, 1000 ×2 (29 samples).
        Assert.Equal(50, corrected.Percentile(10.0 / 29 * 100));
        Assert.Equal(199, corrected.Percentile(11.0 / 29 * 100));
        Assert.Equal(200, corrected.Percentile(12.0 / 29 * 100));
        Assert.Equal(900, corrected.Percentile(27.0 / 29 * 100));
        Assert.Equal(1000, corrected.Percentile(100));
        // The measured distribution is left as it was.
        Assert.Equal(13, histogram.Count);
    }

    [Fact]
    public void Correction_of_a_stall_free_run_changes_nothing()
    {
        var histogram = new LatencyHistogram();
        for (int i = 0; i < 500; i++) histogram.Record(60 + i % 90);
        LatencyHistogram corrected = histogram.CorrectedForCoordinatedOmission(80);
        Assert.Equal(histogram.Count, corrected.Count);
        Assert.Equal(histogram.Percentile(99), corrected.Percentile(99));
    }

    [Fact]
    public void Histograms_added_together_are_the_one_that_recorded_everything()
    {
        var one = new LatencyHistogram(limitMicros: 5000);
        var parts = new[] { new LatencyHistogram(limitMicros: 5000), new LatencyHistogram(limitMicros: 5000), new LatencyHistogram(limitMicros: 5000) };
        var random = new Random(3);
        for (int i = 0; i < 3000; i++)
        {
            long micros = i % 97 == 0 ? 9000 : random.Next(0, 4000);
            one.Record(micros);
            parts[i % 3].Record(micros);
        }
        var sum = new LatencyHistogram(limitMicros: 5000);
        foreach (var part in parts) sum.Add(part);

        Assert.Equal(one.Count, sum.Count);
        Assert.Equal(one.Over, sum.Over);
        Assert.Equal(one.Max, sum.Max);
        foreach (double p in new[] { 0.0, 10, 50, 90, 99, 99.9, 100 }) Assert.Equal(one.Percentile(p), sum.Percentile(p));
    }
}
