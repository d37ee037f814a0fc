namespace RecSys.Bench.Soak;

/// <summary>One reading of the server's memory and collections, and the traffic so far.</summary>
public sealed record SoakSample(double Minutes, double RssMb, double HeapMb, long Gen2Collections, long Requests, long Failed);
