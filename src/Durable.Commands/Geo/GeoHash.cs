namespace Durable.Commands.Geo;

/// <summary>A geohash cell: interleaved bits (latitude in the even positions, longitude in the odd) and its precision.</summary>
internal readonly record struct GeoHashBits(ulong Bits, int Step)
{
    public bool IsZero => Bits == 0 && Step == 0;
}

/// <summary>The longitude and latitude bounds of a geohash cell.</summary>
internal readonly record struct GeoArea(double LongitudeMin, double LongitudeMax, double LatitudeMin, double LatitudeMax);

/// <summary>
/// Redis's geohash arithmetic (geohash.c, geohash_helper.c, Redis 7.0): a position is the 52-bit interleaving of its
/// longitude and latitude cells at step 26 over longitude [-180, 180] and latitude [-85.05112878, 85.05112878], stored
/// as a sorted-set score; a search covers its area with a cell and its eight neighbours at a step chosen from the radius.
/// Every computation is Redis's, operation for operation, so that positions, distances and the members a search finds
/// are the same doubles.
/// </summary>
internal static class GeoHash
{
    public const double LongitudeMin = -180;
    public const double LongitudeMax = 180;
    public const double LatitudeMin = -85.05112878;
    public const double LatitudeMax = 85.05112878;
    public const int StepMax = 26;

    private const double EarthRadiusInMeters = 6372797.560856;
    private const double MercatorMax = 20037726.37;
    private const double DegreesToRadians = Math.PI / 180.0;

    /// <summary>Redis geohashEncode over the given ranges; false (and zero bits) outside them.</summary>
    public static bool TryEncode(
        double longitude, double latitude, int step, out GeoHashBits hash,
        double longitudeMin = LongitudeMin, double longitudeMax = LongitudeMax, double latitudeMin = LatitudeMin, double latitudeMax = LatitudeMax)
    {
        hash = new GeoHashBits(0, step);
        if (longitude > LongitudeMax || longitude < LongitudeMin || latitude > LatitudeMax || latitude < LatitudeMin
            || latitude < latitudeMin || latitude > latitudeMax || longitude < longitudeMin || longitude > longitudeMax)
        {
            return false;
        }

        double latitudeOffset = (latitude - latitudeMin) / (latitudeMax - latitudeMin);
        double longitudeOffset = (longitude - longitudeMin) / (longitudeMax - longitudeMin);
        latitudeOffset *= 1UL << step;
        longitudeOffset *= 1UL << step;
        hash = new GeoHashBits(Interleave((uint)latitudeOffset, (uint)longitudeOffset), step);
        return true;
    }

    /// <summary>The sorted-set score of a position (Redis geohashAlign52Bits of its step-26 hash).</summary>
    public static double Score(double longitude, double latitude)
    {
        TryEncode(longitude, latitude, StepMax, out GeoHashBits hash);
        return Align52Bits(hash);
    }

    public static ulong Align52Bits(GeoHashBits hash) => hash.Bits << (52 - (hash.Step * 2));

    /// <summary>Redis geohashDecode over Redis's ranges.</summary>
    public static GeoArea Decode(GeoHashBits hash)
    {
        ulong separated = Deinterleave(hash.Bits);
        const double LatitudeScale = LatitudeMax - LatitudeMin;
        const double LongitudeScale = LongitudeMax - LongitudeMin;
        uint latitudeCell = (uint)separated;
        uint longitudeCell = (uint)(separated >> 32);
        double cells = 1UL << hash.Step;
        return new GeoArea(
            LongitudeMin + (longitudeCell * 1.0 / cells * LongitudeScale),
            LongitudeMin + (unchecked(longitudeCell + 1) * 1.0 / cells * LongitudeScale),
            LatitudeMin + (latitudeCell * 1.0 / cells * LatitudeScale),
            LatitudeMin + (unchecked(latitudeCell + 1) * 1.0 / cells * LatitudeScale));
    }

    /// <summary>
    /// Redis decodeGeohash: the position a score stands for, the middle of its step-26 cell, within Redis's ranges. The
    /// score becomes an unsigned integer as a C cast on x86-64 does, so that scores no GEOADD wrote decode as in Redis.
    /// </summary>
    public static (double Longitude, double Latitude) DecodeScore(double score)
    {
        GeoArea area = Decode(new GeoHashBits(ToUInt64(score), StepMax));
        double longitude = Math.Clamp((area.LongitudeMin + area.LongitudeMax) / 2, LongitudeMin, LongitudeMax);
        double latitude = Math.Clamp((area.LatitudeMin + area.LatitudeMax) / 2, LatitudeMin, LatitudeMax);
        return (longitude, latitude);
    }

    /// <summary>Redis GEOHASH: the standard 11-character geohash of a stored position (latitude over [-90, 90]).</summary>
    public static string StandardGeohash(double score)
    {
        const string Alphabet = "0123456789bcdefghjkmnpqrstuvwxyz";
        (double longitude, double latitude) = DecodeScore(score);
        TryEncode(longitude, latitude, StepMax, out GeoHashBits hash, -180, 180, -90, 90);
        Span<char> text = stackalloc char[11];
        for (int i = 0; i < 11; i++)
        {
            text[i] = Alphabet[i == 10 ? 0 : (int)((hash.Bits >> (52 - ((i + 1) * 5))) & 0x1f)];
        }

        return new string(text);
    }

    /// <summary>Redis geohashGetDistance: the haversine distance in meters.</summary>
    public static double Distance(double longitude1, double latitude1, double longitude2, double latitude2)
    {
        double latitude1Radians = latitude1 * DegreesToRadians;
        double longitude1Radians = longitude1 * DegreesToRadians;
        double latitude2Radians = latitude2 * DegreesToRadians;
        double longitude2Radians = longitude2 * DegreesToRadians;
        double u = Math.Sin((latitude2Radians - latitude1Radians) / 2);
        double v = Math.Sin((longitude2Radians - longitude1Radians) / 2);
        return 2.0 * EarthRadiusInMeters * Math.Asin(Math.Sqrt((u * u) + (Math.Cos(latitude1Radians) * Math.Cos(latitude2Radians) * v * v)));
    }

    /// <summary>
    /// Redis geohashCalculateAreasByShapeWGS84: the cells to read for a search around (longitude, latitude) reaching
    /// <paramref name="radiusMeters"/> and the bounding box given, in Redis's order (the centre, then north, south, east,
    /// west, north-east, north-west, south-east, south-west); a cell that cannot hold a match is zero.
    /// </summary>
    public static GeoHashBits[] SearchCells(double longitude, double latitude, double radiusMeters, (double MinLongitude, double MinLatitude, double MaxLongitude, double MaxLatitude) bounds)
    {
        int steps = EstimateStepsByRadius(radiusMeters, latitude);
        TryEncode(longitude, latitude, steps, out GeoHashBits hash);
        GeoHashBits[] cells = Neighbours(hash);
        GeoArea area = Decode(hash);

        GeoArea north = Decode(cells[1]);
        GeoArea south = Decode(cells[2]);
        GeoArea east = Decode(cells[3]);
        GeoArea west = Decode(cells[4]);
        bool decreaseStep = north.LatitudeMax < bounds.MaxLatitude || south.LatitudeMin > bounds.MinLatitude
            || east.LongitudeMax < bounds.MaxLongitude || west.LongitudeMin > bounds.MinLongitude;
        if (steps > 1 && decreaseStep)
        {
            steps--;
            TryEncode(longitude, latitude, steps, out hash);
            cells = Neighbours(hash);
            area = Decode(hash);
        }

        if (steps >= 2)
        {
            // Order: 0 centre, 1 north, 2 south, 3 east, 4 west, 5 north-east, 6 north-west, 7 south-east, 8 south-west.
            if (area.LatitudeMin < bounds.MinLatitude)
            {
                cells[2] = cells[8] = cells[7] = default;
            }

            if (area.LatitudeMax > bounds.MaxLatitude)
            {
                cells[1] = cells[5] = cells[6] = default;
            }

            if (area.LongitudeMin < bounds.MinLongitude)
            {
                cells[4] = cells[8] = cells[6] = default;
            }

            if (area.LongitudeMax > bounds.MaxLongitude)
            {
                cells[3] = cells[7] = cells[5] = default;
            }
        }

        return cells;
    }

    /// <summary>
    /// Redis geohashBoundingBox: the longitudes and latitudes a search of half-width and half-height (meters) around a
    /// point can reach, wider on the side nearer the pole.
    /// </summary>
    public static (double MinLongitude, double MinLatitude, double MaxLongitude, double MaxLatitude) BoundingBox(
        double longitude, double latitude, double halfWidthMeters, double halfHeightMeters)
    {
        double latitudeDelta = halfHeightMeters / EarthRadiusInMeters / DegreesToRadians;
        double longitudeDeltaTop = halfWidthMeters / EarthRadiusInMeters / Math.Cos((latitude + latitudeDelta) * DegreesToRadians) / DegreesToRadians;
        double longitudeDeltaBottom = halfWidthMeters / EarthRadiusInMeters / Math.Cos((latitude - latitudeDelta) * DegreesToRadians) / DegreesToRadians;
        bool southern = latitude < 0;
        return (
            southern ? longitude - longitudeDeltaBottom : longitude - longitudeDeltaTop,
            latitude - latitudeDelta,
            southern ? longitude + longitudeDeltaBottom : longitude + longitudeDeltaTop,
            latitude + latitudeDelta);
    }

    /// <summary>The score range [min, max) of every step-26 position inside a cell (Redis scoresOfGeoHashBox).</summary>
    public static (double Min, double Max) ScoresOf(GeoHashBits cell) =>
        (Align52Bits(cell), Align52Bits(cell with { Bits = cell.Bits + 1 }));

    private static int EstimateStepsByRadius(double rangeMeters, double latitude)
    {
        if (rangeMeters == 0)
        {
            return 26;
        }

        int step = 1;
        while (rangeMeters < MercatorMax)
        {
            rangeMeters *= 2;
            step++;
        }

        step -= 2;
        if (latitude > 66 || latitude < -66)
        {
            step--;
            if (latitude > 80 || latitude < -80)
            {
                step--;
            }
        }

        return Math.Clamp(step, 1, 26);
    }

    // Redis geohashNeighbors, in the search's order: centre, north, south, east, west, north-east, north-west,
    // south-east, south-west.
    private static GeoHashBits[] Neighbours(GeoHashBits hash) =>
    [
        hash,
        MoveY(hash, 1),
        MoveY(hash, -1),
        MoveX(hash, 1),
        MoveX(hash, -1),
        MoveY(MoveX(hash, 1), 1),
        MoveY(MoveX(hash, -1), 1),
        MoveY(MoveX(hash, 1), -1),
        MoveY(MoveX(hash, -1), -1),
    ];

    // Redis geohash_move_x / geohash_move_y: one cell east or west (the odd bits), north or south (the even bits).
    private static GeoHashBits MoveX(GeoHashBits hash, int direction) => Move(hash, direction, 0xaaaaaaaaaaaaaaaaUL);

    private static GeoHashBits MoveY(GeoHashBits hash, int direction) => Move(hash, direction, 0x5555555555555555UL);

    private static GeoHashBits Move(GeoHashBits hash, int direction, ulong moved)
    {
        ulong value = hash.Bits & moved;
        ulong kept = hash.Bits & ~moved;
        ulong zz = ~moved >> (64 - (hash.Step * 2));
        value = direction > 0 ? unchecked(value + (zz + 1)) : unchecked((value | zz) - (zz + 1));
        value &= moved >> (64 - (hash.Step * 2));
        return hash with { Bits = value | kept };
    }

    private static ulong Interleave(uint latitudeCell, uint longitudeCell) => Spread(latitudeCell) | (Spread(longitudeCell) << 1);

    private static ulong Spread(uint value)
    {
        ulong x = value;
        x = (x | (x << 16)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x << 8)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x << 2)) & 0x3333333333333333UL;
        x = (x | (x << 1)) & 0x5555555555555555UL;
        return x;
    }

    private static ulong Deinterleave(ulong interleaved) => Squeeze(interleaved) | (Squeeze(interleaved >> 1) << 32);

    private static ulong Squeeze(ulong x)
    {
        x &= 0x5555555555555555UL;
        x = (x | (x >> 1)) & 0x3333333333333333UL;
        x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x >> 4)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x >> 8)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x >> 16)) & 0x00000000FFFFFFFFUL;
        return x;
    }

    // (uint64_t)score as gcc compiles it on x86-64: below 2^63 a signed truncation (negative scores wrap), above it the
    // same on score - 2^63 with the top bit flipped; out of range the truncation gives 0x8000000000000000.
    private static ulong ToUInt64(double score)
    {
        const double TwoTo63 = 9223372036854775808.0;
        return score < TwoTo63 ? unchecked((ulong)Truncate(score)) : unchecked((ulong)Truncate(score - TwoTo63)) ^ (1UL << 63);

        static long Truncate(double value) => value >= TwoTo63 || value < -TwoTo63 || double.IsNaN(value) ? long.MinValue : (long)value;
    }
}
