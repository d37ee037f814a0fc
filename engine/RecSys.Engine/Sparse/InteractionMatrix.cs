using RecSys.Engine.Data;

namespace RecSys.Engine.Sparse;

/// <summary>
/// The user × item matrix of summed raw weights, its transpose, and the id maps between external
/// int64 ids and dense indices. Confidence weighting is applied on top (see <see cref="Confidence"/>).
/// </summary>
public sealed class InteractionMatrix
{
    private CsrMatrix? _itemUsers;

    public InteractionMatrix(IdMap users, IdMap items, CsrMatrix userItems)
    {
        Users = users;
        Items = items;
        UserItems = userItems;
    }

    public IdMap Users { get; }
    public IdMap Items { get; }

    /// <summary>Users × items, raw weights summed over duplicate rows.</summary>
    public CsrMatrix UserItems { get; }

    /// <summary>Items × users, built on first use.</summary>
    public CsrMatrix ItemUsers => _itemUsers ??= UserItems.Transpose();

    public int Nnz => UserItems.Nnz;

    public static InteractionMatrix Build(InteractionTable table)
    {
        var users = IdMap.FromColumn(table.Users);
        var items = IdMap.FromColumn(table.Items);
        int[] rows = users.MapColumn(table.Users);
        int[] cols = items.MapColumn(table.Items);
        var csr = CsrBuilder.FromCoo(users.Count, items.Count, rows, cols, table.Weights);
        return new InteractionMatrix(users, items, csr);
    }
}
