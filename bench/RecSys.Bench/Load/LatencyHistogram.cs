namespace RecSys.Bench.Load;

/// <summary>
/// Request latencies counted per whole microsecond, with exact nearest-rank percentiles.
/// Values at or above <see cref="LimitMicros"/> are kept in the last slot (and in <see cref="Over"/>),
/// so a stuck request still counts against the tail instead of vanishing.
/// </summary>
public sealed class LatencyHistogram
{
    private long[] _counts = new long[4096];

    public LatencyHistogram(long limitMicros = 10_000_000) => LimitMicros = limitMicros;

    /// <summary>Largest value kept exactly; slower requests are counted here.</summary>
    public long LimitMicros { get; }

    public long Count { get; private set; }

    public long Over { get; private set; }

    public long Max { get; private set; }

    public void Record(long micros, long times = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(micros);
        if (micros >= LimitMicros)
        {
            Over += times;
            micros = LimitMicros;
        }
        if (micros >= _counts.Length)
        {
            Array.Resize(ref _counts, (int)Math.Min(LimitMicros + 1, Math.Max(micros + 1, 2L * _counts.Length)));
        }
        _counts[micros] += times;
        Count += times;
        Max = Math.Max(Max, micros);
    }

    /// <summary>Adds every latency another histogram (of the same limit) recorded: several clients' counts made one.</summary>
    public void Add(LatencyHistogram other)
    {
        if (other.LimitMicros != LimitMicros) throw new ArgumentException($"histograms of different limits ({other.LimitMicros} µs, {LimitMicros} µs) cannot be added", nameof(other));
        for (long micros = 0; micros <= other.Max; micros++)
        {
            if (other._counts[micros] > 0) Record(micros, other._counts[micros]);
        }
    }

    /// <summary>The smallest recorded value with at least <paramref name="percent"/> % of the counts at or below it.</summary>
    public long Percentile(double percent)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100.0);
        if (Count == 0) throw new InvalidOperationException("no latencies recorded");
        long rank = Math.Max(1, (long)Math.Ceiling(percent / 100.0 * Count));
        long seen = 0;
        for (long micros = 0; micros <= Max; micros++)
        {
            seen += _counts[micros];
            if (seen >= rank) return micros;
        }
        return Max;
    }

    /// <summary>
    /// The distribution corrected for coordinated omission, as wrk reports it: a closed-loop client
    /// stops sending while it waits, so a stall of D hides the requests that a client sending every
    /// <paramref name="expectedIntervalMicros"/> would have sent meanwhile. Each recorded value v of at
    /// least twice the interval adds one sample at v − i, v − 2i, … while above i (i = the interval).
    /// </summary>
    public LatencyHistogram CorrectedForCoordinatedOmission(long expectedIntervalMicros)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(expectedIntervalMicros, 1);
        var corrected = new LatencyHistogram(LimitMicros);
        for (long micros = 0; micros <= Max; micros++)
        {
            long count = _counts[micros];
            if (count == 0) continue;
            corrected.Record(micros, count);
            if (micros < 2 * expectedIntervalMicros) continue;
            for (long missed = micros - expectedIntervalMicros; missed > expectedIntervalMicros; missed -= expectedIntervalMicros)
            {
                corrected.Record(missed, count);
            }
        }
        corrected.Over = Over;
        return corrected;
    }
}
