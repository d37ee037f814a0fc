namespace RecSys.Engine.Sparse;

/// <summary>
/// Compressed sparse rows: row r's column indices (ascending, distinct) and values are
/// <c>ColIndices[RowPtr[r]..RowPtr[r+1]]</c>. Immutable by convention once built.
/// </summary>
public sealed class CsrMatrix
{
    public CsrMatrix(int rows, int cols, int[] rowPtr, int[] colIndices, float[] values)
    {
        if (rowPtr.Length != rows + 1) throw new ArgumentException($"rowPtr has {rowPtr.Length} entries, expected rows + 1 = {rows + 1}");
        if (colIndices.Length < rowPtr[rows] || values.Length < rowPtr[rows]) throw new ArgumentException("index or value array shorter than nnz");
        Rows = rows;
        Cols = cols;
        RowPtr = rowPtr;
        ColIndices = colIndices;
        Values = values;
    }

    public int Rows { get; }
    public int Cols { get; }
    public int[] RowPtr { get; }
    public int[] ColIndices { get; }
    public float[] Values { get; }
    public int Nnz => RowPtr[Rows];

    public ReadOnlySpan<int> RowIndices(int row) => ColIndices.AsSpan(RowPtr[row], RowPtr[row + 1] - RowPtr[row]);
    public ReadOnlySpan<float> RowValues(int row) => Values.AsSpan(RowPtr[row], RowPtr[row + 1] - RowPtr[row]);
    public int RowLength(int row) => RowPtr[row + 1] - RowPtr[row];

    /// <summary>The same structure with other values (confidence weighting).</summary>
    public CsrMatrix WithValues(float[] values)
    {
        if (values.Length != Nnz) throw new ArgumentException($"expected {Nnz} values, got {values.Length}");
        return new CsrMatrix(Rows, Cols, RowPtr, ColIndices, values);
    }

    /// <summary>The transpose, by a counting sort over columns: row indices come out ascending in each new row.</summary>
    public CsrMatrix Transpose()
    {
        int nnz = Nnz;
        var ptr = new int[Cols + 1];
        foreach (int c in ColIndices.AsSpan(0, nnz))
        {
            ptr[c + 1]++;
        }
        for (int c = 0; c < Cols; c++)
        {
            ptr[c + 1] += ptr[c];
        }
        var next = ptr.AsSpan(0, Cols).ToArray();
        var indices = new int[nnz];
        var values = new float[nnz];
        for (int r = 0; r < Rows; r++)
        {
            for (int k = RowPtr[r]; k < RowPtr[r + 1]; k++)
            {
                int slot = next[ColIndices[k]]++;
                indices[slot] = r;
                values[slot] = Values[k];
            }
        }
        return new CsrMatrix(Cols, Rows, ptr, indices, values);
    }
}
