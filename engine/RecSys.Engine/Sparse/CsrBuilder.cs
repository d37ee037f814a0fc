namespace RecSys.Engine.Sparse;

/// <summary>
/// COO → CSR with duplicates summed. Two stable counting sorts (by column, then by row) leave each
/// row's columns ascending with duplicates adjacent, which one linear pass then merges: O(nnz),
/// no comparison sort, no per-row allocation.
/// </summary>
public static class CsrBuilder
{
    public static CsrMatrix FromCoo(int rows, int cols, ReadOnlySpan<int> rowIndex, ReadOnlySpan<int> colIndex, ReadOnlySpan<float> values)
    {
        int n = rowIndex.Length;
        if (colIndex.Length != n || values.Length != n)
        {
            throw new ArgumentException("row, column and value arrays must have the same length");
        }

        // Pass 1: bucket by column.
        var colPtr = new int[cols + 1];
        foreach (int c in colIndex)
        {
            if ((uint)c >= (uint)cols) throw new ArgumentOutOfRangeException(nameof(colIndex), c, $"column index outside 0..{cols - 1}");
            colPtr[c + 1]++;
        }
        for (int c = 0; c < cols; c++) colPtr[c + 1] += colPtr[c];
        var rowsByCol = new int[n];
        var valsByCol = new float[n];
        {
            var next = colPtr.AsSpan(0, cols).ToArray();
            for (int i = 0; i < n; i++)
            {
                int slot = next[colIndex[i]]++;
                rowsByCol[slot] = rowIndex[i];
                valsByCol[slot] = values[i];
            }
        }

        // Pass 2: bucket by row, visiting columns in ascending order.
        var rowPtr = new int[rows + 1];
        foreach (int r in rowsByCol)
        {
            if ((uint)r >= (uint)rows) throw new ArgumentOutOfRangeException(nameof(rowIndex), r, $"row index outside 0..{rows - 1}");
            rowPtr[r + 1]++;
        }
        for (int r = 0; r < rows; r++) rowPtr[r + 1] += rowPtr[r];
        var indices = new int[n];
        var vals = new float[n];
        {
            var next = rowPtr.AsSpan(0, rows).ToArray();
            for (int c = 0; c < cols; c++)
            {
                for (int s = colPtr[c]; s < colPtr[c + 1]; s++)
                {
                    int slot = next[rowsByCol[s]]++;
                    indices[slot] = c;
                    vals[slot] = valsByCol[s];
                }
            }
        }

        // Pass 3: merge adjacent duplicates in place.
        int write = 0;
        int start = 0;
        for (int r = 0; r < rows; r++)
        {
            int end = rowPtr[r + 1];
            int rowStart = write;
            for (int k = start; k < end; k++)
            {
                if (write > rowStart && indices[write - 1] == indices[k])
                {
                    vals[write - 1] += vals[k];
                }
                else
                {
                    indices[write] = indices[k];
                    vals[write] = vals[k];
                    write++;
                }
            }
            start = end;
            rowPtr[r + 1] = write;
        }
        if (write < n)
        {
            Array.Resize(ref indices, write);
            Array.Resize(ref vals, write);
        }
        return new CsrMatrix(rows, cols, rowPtr, indices, vals);
    }
}
