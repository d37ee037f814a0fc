namespace RecSys.Engine.Data;

/// <summary>
/// Columnar, growable list of (user_id, track_id, weight) triples. Columns instead of an array of
/// structs so the matrix builder can stream each one and 100M rows stay one allocation per column.
/// </summary>
public sealed class InteractionTable
{
    private long[] _users;
    private long[] _items;
    private float[] _weights;

    public InteractionTable(int capacity = 1024)
    {
        capacity = Math.Max(capacity, 16);
        _users = new long[capacity];
        _items = new long[capacity];
        _weights = new float[capacity];
    }

    public int Count { get; private set; }

    public ReadOnlySpan<long> Users => _users.AsSpan(0, Count);
    public ReadOnlySpan<long> Items => _items.AsSpan(0, Count);
    public ReadOnlySpan<float> Weights => _weights.AsSpan(0, Count);

    public void Add(long userId, long trackId, float weight)
    {
        int n = Count;
        if (n == _users.Length)
        {
            Grow();
        }
        _users[n] = userId;
        _items[n] = trackId;
        _weights[n] = weight;
        Count = n + 1;
    }

    public void Clear() => Count = 0;

    private void Grow()
    {
        long next = Math.Min((long)_users.Length * 2, Array.MaxLength);
        if (next <= _users.Length)
        {
            throw new InvalidOperationException($"An interaction table holds at most {Array.MaxLength:N0} rows.");
        }
        Array.Resize(ref _users, (int)next);
        Array.Resize(ref _items, (int)next);
        Array.Resize(ref _weights, (int)next);
    }
}
