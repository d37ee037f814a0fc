namespace RecSys.Engine.Data;

/// <summary>A <c>RecSys:Db:*</c> mapping that does not fit the database: names the setting, the table or column, and what is wrong.</summary>
public sealed class SchemaMappingException(string message) : InvalidOperationException(message);
