namespace RecSys.Engine.Data;

/// <summary>Word lists for readable generated names.</summary>
internal static class DemoWords
{
    public static readonly string[] GenreNames =
    [
        "rock", "pop", "jazz", "hip-hop", "electronic", "classical", "folk", "metal",
        "soul", "reggae", "blues", "country", "latin", "ambient", "punk", "k-pop",
        "funk", "disco", "techno", "indie",
    ];

    public static readonly string[] Adjectives =
    [
        "Velvet", "Silver", "Electric", "Quiet", "Golden", "Broken", "Midnight", "Crimson", "Hollow", "Neon",
        "Wild", "Paper", "Distant", "Frozen", "Lucky", "Restless", "Gentle", "Burning", "Hidden", "Lonely",
        "Bright", "Faded", "Northern", "Wandering", "Sacred", "Bitter", "Endless", "Secret", "Shining", "Little",
    ];

    public static readonly string[] Nouns =
    [
        "Harbor", "Engines", "Rivers", "Lanterns", "Wolves", "Echoes", "Satellites", "Gardens", "Mirrors", "Horizons",
        "Tides", "Sparrows", "Cities", "Shadows", "Dreams", "Machines", "Oceans", "Roads", "Stars", "Fires",
        "Bridges", "Signals", "Waves", "Mountains", "Letters", "Storms", "Heartbeats", "Islands", "Winters", "Summers",
    ];

    public static readonly string[] Connectors = ["of", "in the", "and", "under", "beyond", "for"];
}
