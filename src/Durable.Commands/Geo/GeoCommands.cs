using Durable.Commands.Collections;
using Durable.Commands.PubSub;
using System.Globalization;
using Durable.Protocol;
using Durable.Commands.SortedSets;
using Durable.Commands.Strings;

namespace Durable.Commands.Geo;

/// <summary>
/// Geo commands (Redis 7.0): GEOADD, GEOPOS, GEODIST, GEOHASH, GEORADIUS, GEORADIUSBYMEMBER and their _RO forms,
/// GEOSEARCH, GEOSEARCHSTORE. A geo set is a sorted set whose scores are positions (<see cref="GeoHash"/>), so it is
/// stored, recovered and split into parts as any sorted set, and a search reads only the score ranges of the cells
/// around its centre.
/// </summary>
internal static class GeoCommands
{
    private const string NotAFloat = "ERR value is not a valid float";
    private const string UnknownUnit = "ERR unsupported unit provided. please use M, KM, FT, MI";
    private const string NoSuchMember = "ERR could not decode requested zset member";

    public static void Register(CommandTable table)
    {
        string[] read = ["read", "geo", "slow"];
        string[] write = ["write", "geo", "slow"];
        table.Add("GEOADD", -5, CommandFlags.Write | CommandFlags.DenyOom, GeoAdd, 1, 1, 1, write);
        table.Add("GEOPOS", -2, CommandFlags.ReadOnly, GeoPos, 1, 1, 1, read);
        table.Add("GEODIST", -4, CommandFlags.ReadOnly, GeoDist, 1, 1, 1, read);
        table.Add("GEOHASH", -2, CommandFlags.ReadOnly, GeoHashCommand, 1, 1, 1, read);
        table.Add(
            "GEORADIUS", -6, CommandFlags.Write | CommandFlags.DenyOom, (c, a) => Search(c, a, 1, SearchKind.Coordinates), 1, 1, 1, write,
            findKeys: (args, keys) => FindStoreKeys(args, 6, keys));
        table.Add(
            "GEORADIUSBYMEMBER", -5, CommandFlags.Write | CommandFlags.DenyOom, (c, a) => Search(c, a, 1, SearchKind.Member), 1, 1, 1, write,
            findKeys: (args, keys) => FindStoreKeys(args, 5, keys));
        table.Add("GEORADIUS_RO", -6, CommandFlags.ReadOnly, (c, a) => Search(c, a, 1, SearchKind.Coordinates | SearchKind.NoStore), 1, 1, 1, read);
        table.Add(
            "GEORADIUSBYMEMBER_RO", -5, CommandFlags.ReadOnly, (c, a) => Search(c, a, 1, SearchKind.Member | SearchKind.NoStore), 1, 1, 1, read);
        table.Add("GEOSEARCH", -7, CommandFlags.ReadOnly, (c, a) => Search(c, a, 1, SearchKind.Search), 1, 1, 1, read);
        table.Add(
            "GEOSEARCHSTORE", -8, CommandFlags.Write | CommandFlags.DenyOom, (c, a) => Search(c, a, 2, SearchKind.Search | SearchKind.SearchStore),
            1, 2, 1, write);
    }

    [Flags]
    private enum SearchKind
    {
        Coordinates = 1,
        Member = 2,
        NoStore = 4,
        Search = 8,
        SearchStore = 16,
    }

    // GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with the positions' scores (Redis rewrites the command
    // into a ZADD and runs it), so replies, errors past the coordinates and encodings are ZADD's.
    private static void GeoAdd(CommandContext context, RespArgs args)
    {
        SortedSetCommands.AddFlags flags = SortedSetCommands.AddFlags.None;
        int index = 2;
        for (; index < args.Count; index++)
        {
            if (args.Is(index, "NX"u8))
            {
                flags |= SortedSetCommands.AddFlags.Nx;
            }
            else if (args.Is(index, "XX"u8))
            {
                flags |= SortedSetCommands.AddFlags.Xx;
            }
            else if (args.Is(index, "CH"u8))
            {
                flags |= SortedSetCommands.AddFlags.Ch;
            }
            else
            {
                break;
            }
        }

        int elements = (args.Count - index) / 3;
        bool nxAndXx = (flags & (SortedSetCommands.AddFlags.Nx | SortedSetCommands.AddFlags.Xx)) ==
            (SortedSetCommands.AddFlags.Nx | SortedSetCommands.AddFlags.Xx);
        if ((args.Count - index) % 3 != 0 || nxAndXx || elements == 0)
        {
            context.WriteSyntaxError();
            return;
        }

        double[] scores = new double[elements];
        for (int i = 0; i < elements; i++)
        {
            if (!TryParsePosition(context, args, index + (3 * i), out double longitude, out double latitude))
            {
                return;
            }

            scores[i] = GeoHash.Score(longitude, latitude);
        }

        SortedSetCommands.AddMembers(context, args, index, scores, flags, stride: 3);
    }

    private static void GeoPos(CommandContext context, RespArgs args)
    {
        if (!SortedSetCommands.TryRead(context, args[1], out SortedSetValue set))
        {
            return;
        }

        context.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            if (!set.TryGetScore(args[i], out double score))
            {
                context.WriteNullArray();
                continue;
            }

            (double longitude, double latitude) = GeoHash.DecodeScore(score);
            context.WriteArrayHeader(2);
            WriteCoordinate(context, longitude);
            WriteCoordinate(context, latitude);
        }
    }

    private static void GeoDist(CommandContext context, RespArgs args)
    {
        double toMeters = 1;
        if (args.Count == 5)
        {
            if (!TryParseUnit(context, args[4], out toMeters))
            {
                return;
            }
        }
        else if (args.Count > 5)
        {
            context.WriteSyntaxError();
            return;
        }

        ReadResult read = SortedSetValue.Read(context, args[1], countStats: true, out SortedSetValue set, out _);
        if (read == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        if (read == ReadResult.Missing || !set.TryGetScore(args[2], out double first) || !set.TryGetScore(args[3], out double second))
        {
            context.WriteNull();
            return;
        }

        (double longitude1, double latitude1) = GeoHash.DecodeScore(first);
        (double longitude2, double latitude2) = GeoHash.DecodeScore(second);
        WriteDistance(context, GeoHash.Distance(longitude1, latitude1, longitude2, latitude2) / toMeters);
    }

    private static void GeoHashCommand(CommandContext context, RespArgs args)
    {
        if (!SortedSetCommands.TryRead(context, args[1], out SortedSetValue set))
        {
            return;
        }

        context.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            if (set.TryGetScore(args[i], out double score))
            {
                context.WriteBulk(GeoHash.StandardGeohash(score));
            }
            else
            {
                context.WriteNull();
            }
        }
    }

    // Redis georadiusGeneric: the source key first (WRONGTYPE before anything else), then the centre and shape, then the
    // options in order; the cells around the centre are read in Redis's order, the matches sorted if asked (COUNT
    // without ANY sorts nearest first), and replied or stored.
    private static void Search(CommandContext context, RespArgs args, int sourceIndex, SearchKind kind)
    {
        ReadResult read = SortedSetValue.Read(context, args[sourceIndex], countStats: true, out SortedSetValue set, out _);
        if (read == ReadResult.WrongType)
        {
            context.WriteWrongType();
            return;
        }

        bool exists = read == ReadResult.Found;
        var shape = new SearchShape();
        int baseArgs;
        int storeIndex = -1;
        if ((kind & SearchKind.Coordinates) != 0)
        {
            baseArgs = 6;
            shape.Circular = true;
            if (!TryParsePosition(context, args, 2, out shape.Longitude, out shape.Latitude)
                || !TryParseDistance(context, args, 4, out shape.Conversion, out shape.Radius))
            {
                return;
            }
        }
        else if ((kind & SearchKind.Member) != 0)
        {
            baseArgs = 5;
            if (exists)
            {
                shape.Circular = true;
                if (!TryPositionOf(context, set, args[2], out shape.Longitude, out shape.Latitude)
                    || !TryParseDistance(context, args, 3, out shape.Conversion, out shape.Radius))
                {
                    return;
                }
            }
        }
        else
        {
            baseArgs = sourceIndex + 1;
            if ((kind & SearchKind.SearchStore) != 0)
            {
                storeIndex = 1;
            }
        }

        bool withDist = false;
        bool withHash = false;
        bool withCoord = false;
        bool fromMember = false;
        bool fromLonLat = false;
        bool byRadius = false;
        bool byBox = false;
        bool storeDist = false;
        bool any = false;
        int sort = 0; // 0 none, 1 ascending, 2 descending
        long count = 0;
        bool search = (kind & SearchKind.Search) != 0;
        bool storeAllowed = (kind & (SearchKind.NoStore | SearchKind.Search)) == 0;
        int remaining = args.Count - baseArgs;
        for (int i = 0; i < remaining; i++)
        {
            int at = baseArgs + i;
            if (args.Is(at, "WITHDIST"u8))
            {
                withDist = true;
            }
            else if (args.Is(at, "WITHHASH"u8))
            {
                withHash = true;
            }
            else if (args.Is(at, "WITHCOORD"u8))
            {
                withCoord = true;
            }
            else if (args.Is(at, "ANY"u8))
            {
                any = true;
            }
            else if (args.Is(at, "ASC"u8))
            {
                sort = 1;
            }
            else if (args.Is(at, "DESC"u8))
            {
                sort = 2;
            }
            else if (args.Is(at, "COUNT"u8) && i + 1 < remaining)
            {
                if (!RedisNumber.TryParseInt64(args[at + 1], out count))
                {
                    context.WriteNotInteger();
                    return;
                }

                if (count <= 0)
                {
                    context.WriteError("ERR COUNT must be > 0");
                    return;
                }

                i++;
            }
            else if ((args.Is(at, "STORE"u8) || args.Is(at, "STOREDIST"u8)) && i + 1 < remaining && storeAllowed)
            {
                storeIndex = at + 1;
                storeDist = args.Is(at, "STOREDIST"u8);
                i++;
            }
            else if (args.Is(at, "STOREDIST"u8) && (kind & SearchKind.SearchStore) != 0)
            {
                storeDist = true;
            }
            else if (args.Is(at, "FROMMEMBER"u8) && i + 1 < remaining && search && !fromLonLat)
            {
                if (exists && !TryPositionOf(context, set, args[at + 1], out shape.Longitude, out shape.Latitude))
                {
                    return;
                }

                fromMember = true;
                i++;
            }
            else if (args.Is(at, "FROMLONLAT"u8) && i + 2 < remaining && search && !fromMember)
            {
                if (!TryParsePosition(context, args, at + 1, out shape.Longitude, out shape.Latitude))
                {
                    return;
                }

                fromLonLat = true;
                i += 2;
            }
            else if (args.Is(at, "BYRADIUS"u8) && i + 2 < remaining && search && !byBox)
            {
                if (!TryParseDistance(context, args, at + 1, out shape.Conversion, out shape.Radius))
                {
                    return;
                }

                shape.Circular = true;
                byRadius = true;
                i += 2;
            }
            else if (args.Is(at, "BYBOX"u8) && i + 3 < remaining && search && !byRadius)
            {
                if (!TryParseBox(context, args, at + 1, out shape.Conversion, out shape.Width, out shape.Height))
                {
                    return;
                }

                shape.Circular = false;
                byBox = true;
                i += 3;
            }
            else
            {
                context.WriteSyntaxError();
                return;
            }
        }

        if (storeIndex >= 0 && (withDist || withHash || withCoord))
        {
            context.WriteError(
                $"ERR {((kind & SearchKind.SearchStore) != 0 ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS")} is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
            return;
        }

        if (search && !(fromMember || fromLonLat))
        {
            context.WriteErrorOneLine($"ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {CommandDispatcher.Truncate(args[0], args[0].Length)}");
            return;
        }

        if (search && !(byRadius || byBox))
        {
            context.WriteErrorOneLine($"ERR exactly one of BYRADIUS and BYBOX can be specified for {CommandDispatcher.Truncate(args[0], args[0].Length)}");
            return;
        }

        if (any && count == 0)
        {
            context.WriteError("ERR the ANY argument requires COUNT argument");
            return;
        }

        if (!exists)
        {
            if (storeIndex >= 0)
            {
                CollectionRecords.DeleteDestination(context, args[storeIndex]);
                context.WriteInteger(0);
            }
            else
            {
                context.WriteArrayHeader(0);
            }

            return;
        }

        if (count != 0 && sort == 0 && !any)
        {
            sort = 1;
        }

        List<GeoMatch> matches = FindMatches(set, shape, any ? count : 0);
        if (matches.Count == 0 && storeIndex < 0)
        {
            context.WriteArrayHeader(0);
            return;
        }

        int returned = count == 0 || matches.Count < count ? matches.Count : (int)count;
        if (sort != 0)
        {
            // A stable sort by distance: glibc's qsort, which Redis calls when it returns every match, keeps ties in order.
            Comparison<GeoMatch> ascending = (a, b) => a.Distance.CompareTo(b.Distance);
            matches = matches.Order(Comparer<GeoMatch>.Create(sort == 1 ? ascending : (a, b) => ascending(b, a))).ToList();
        }

        if (storeIndex < 0)
        {
            WriteMatches(context, matches, returned, shape.Conversion, withDist, withHash, withCoord);
            return;
        }

        Store(context, args[storeIndex], matches, returned, shape.Conversion, storeDist, (kind & SearchKind.SearchStore) != 0 ? "geosearchstore"u8 : "georadiusstore"u8);
    }

    private static void WriteMatches(CommandContext context, List<GeoMatch> matches, int returned, double conversion, bool withDist, bool withHash, bool withCoord)
    {
        int options = (withDist ? 1 : 0) + (withHash ? 1 : 0) + (withCoord ? 1 : 0);
        context.WriteArrayHeader(returned);
        for (int i = 0; i < returned; i++)
        {
            GeoMatch match = matches[i];
            if (options > 0)
            {
                context.WriteArrayHeader(options + 1);
            }

            context.WriteBulk(match.Member);
            if (withDist)
            {
                WriteDistance(context, match.Distance / conversion);
            }

            if (withHash)
            {
                context.WriteInteger((long)match.Score);
            }

            if (withCoord)
            {
                context.WriteArrayHeader(2);
                WriteCoordinate(context, match.Longitude);
                WriteCoordinate(context, match.Latitude);
            }
        }
    }

    // STORE (the positions' scores) or STOREDIST (the distances in the unit asked): a new sorted set replaces whatever
    // the key held, with no TTL; no match deletes the key.
    private static void Store(
        CommandContext context, ReadOnlySpan<byte> key, List<GeoMatch> matches, int returned, double conversion, bool storeDist, ReadOnlySpan<byte> eventName)
    {
        if (returned == 0)
        {
            CollectionRecords.DeleteDestination(context, key);
            context.WriteInteger(0);
            return;
        }

        int longest = 0;
        for (int i = 0; i < returned; i++)
        {
            longest = Math.Max(longest, matches[i].Member.Length);
        }

        Server.ServerConfig config = context.Server.Config;
        bool large = returned > config.ZsetMaxListpackEntries || longest > config.ZsetMaxListpackValue;
        SortedSetValue destination = new SortedSetValue(large, returned).WithLimits(config);
        for (int i = 0; i < returned; i++)
        {
            GeoMatch match = matches[i];
            if (!destination.TryGetScore(match.Member, out _))
            {
                destination.Insert(match.Member, storeDist ? match.Distance / conversion : match.Score);
            }
        }

        if (destination.Save(context, key, 0))
        {
            context.Notify(KeyspaceEventClass.SortedSet, eventName, key);
            context.WriteInteger(returned);
        }
    }

    // Redis membersOfAllNeighbors: each cell not zeroed and not the same as the one read just before (a cell equal to
    // the centre is read again, as in Redis), in order, until ANY's count is reached.
    private static List<GeoMatch> FindMatches(SortedSetValue set, SearchShape shape, long limit)
    {
        double halfWidth = shape.Conversion * (shape.Circular ? shape.Radius : shape.Width / 2);
        double halfHeight = shape.Conversion * (shape.Circular ? shape.Radius : shape.Height / 2);
        (double MinLongitude, double MinLatitude, double MaxLongitude, double MaxLatitude) bounds = GeoHash.BoundingBox(shape.Longitude, shape.Latitude, halfWidth, halfHeight);
        double radiusMeters = shape.Circular ? shape.Radius
            : Math.Sqrt((shape.Width / 2 * (shape.Width / 2)) + (shape.Height / 2 * (shape.Height / 2)));
        radiusMeters *= shape.Conversion;
        GeoHashBits[] cells = GeoHash.SearchCells(shape.Longitude, shape.Latitude, radiusMeters, bounds);

        List<GeoMatch> matches = [];
        int lastRead = 0;
        for (int i = 0; i < cells.Length; i++)
        {
            if (cells[i].IsZero || (lastRead != 0 && cells[i] == cells[lastRead]))
            {
                continue;
            }

            if (matches.Count > 0 && limit != 0 && matches.Count >= limit)
            {
                break;
            }

            (double min, double max) = GeoHash.ScoresOf(cells[i]);
            foreach (ScoredMember member in set.Ascending(new ScoreRange(min, false, max, true)))
            {
                if (TryMatch(shape, member, out GeoMatch match))
                {
                    matches.Add(match);
                }

                if (matches.Count > 0 && limit != 0 && matches.Count >= limit)
                {
                    break;
                }
            }

            lastRead = i;
        }

        return matches;
    }

    // Redis geoAppendIfWithinShape: within the radius, or within half the width and half the height of the box.
    private static bool TryMatch(SearchShape shape, ScoredMember member, out GeoMatch match)
    {
        (double longitude, double latitude) = GeoHash.DecodeScore(member.Score);
        double distance;
        if (shape.Circular)
        {
            distance = GeoHash.Distance(shape.Longitude, shape.Latitude, longitude, latitude);
            if (distance > shape.Radius * shape.Conversion)
            {
                match = default;
                return false;
            }
        }
        else
        {
            double width = shape.Width * shape.Conversion;
            double height = shape.Height * shape.Conversion;
            double longitudeDistance = GeoHash.Distance(longitude, latitude, shape.Longitude, latitude);
            double latitudeDistance = GeoHash.Distance(longitude, latitude, longitude, shape.Latitude);
            if (longitudeDistance > width / 2 || latitudeDistance > height / 2)
            {
                match = default;
                return false;
            }

            distance = GeoHash.Distance(shape.Longitude, shape.Latitude, longitude, latitude);
        }

        match = new GeoMatch(member.Member, member.Score, longitude, latitude, distance);
        return true;
    }

    private static bool TryPositionOf(CommandContext context, SortedSetValue set, ReadOnlySpan<byte> member, out double longitude, out double latitude)
    {
        if (!set.TryGetScore(member, out double score))
        {
            context.WriteError(NoSuchMember);
            longitude = latitude = 0;
            return false;
        }

        (longitude, latitude) = GeoHash.DecodeScore(score);
        return true;
    }

    // Redis extractLongLatOrReply: two floats, then the ranges, whose error prints both as printf's %f.
    private static bool TryParsePosition(CommandContext context, RespArgs args, int index, out double longitude, out double latitude)
    {
        latitude = 0;
        if (!ScoreText.TryParse(args[index], out longitude) || !ScoreText.TryParse(args[index + 1], out latitude))
        {
            context.WriteError(NotAFloat);
            return false;
        }

        if (longitude < GeoHash.LongitudeMin || longitude > GeoHash.LongitudeMax || latitude < GeoHash.LatitudeMin || latitude > GeoHash.LatitudeMax)
        {
            context.WriteError($"ERR invalid longitude,latitude pair {PrintfFixed6(longitude)},{PrintfFixed6(latitude)}");
            return false;
        }

        return true;
    }

    private static bool TryParseDistance(CommandContext context, RespArgs args, int index, out double conversion, out double radius)
    {
        conversion = 0;
        if (!ScoreText.TryParse(args[index], out radius))
        {
            context.WriteError("ERR need numeric radius");
            return false;
        }

        if (radius < 0)
        {
            context.WriteError("ERR radius cannot be negative");
            return false;
        }

        return TryParseUnit(context, args[index + 1], out conversion);
    }

    private static bool TryParseBox(CommandContext context, RespArgs args, int index, out double conversion, out double width, out double height)
    {
        conversion = 0;
        height = 0;
        if (!ScoreText.TryParse(args[index], out width))
        {
            context.WriteError("ERR need numeric width");
            return false;
        }

        if (!ScoreText.TryParse(args[index + 1], out height))
        {
            context.WriteError("ERR need numeric height");
            return false;
        }

        if (height < 0 || width < 0)
        {
            context.WriteError("ERR height or width cannot be negative");
            return false;
        }

        return TryParseUnit(context, args[index + 2], out conversion);
    }

    private static bool TryParseUnit(CommandContext context, ReadOnlySpan<byte> unit, out double toMeters)
    {
        toMeters = StringRecords.IsOption(unit, "M"u8) ? 1
            : StringRecords.IsOption(unit, "KM"u8) ? 1000
            : StringRecords.IsOption(unit, "FT"u8) ? 0.3048
            : StringRecords.IsOption(unit, "MI"u8) ? 1609.34
            : -1;
        if (toMeters < 0)
        {
            context.WriteError(UnknownUnit);
            return false;
        }

        return true;
    }

    /// <summary>The arguments GEORADIUS and GEORADIUSBYMEMBER may store into: the key, then each STORE/STOREDIST's.</summary>
    private static void FindStoreKeys(RespArgs args, int baseArgs, List<int> keys)
    {
        keys.Add(1);
        for (int i = baseArgs; i < args.Count - 1; i++)
        {
            if (StringRecords.IsOption(args[i], "STORE"u8) || StringRecords.IsOption(args[i], "STOREDIST"u8))
            {
                keys.Add(i + 1);
            }
        }
    }

    // Redis addReplyDoubleDistance: printf's "%.4f", always a bulk string.
    private static void WriteDistance(CommandContext context, double distance) => context.WriteBulk(PrintfFixed(distance, 4));

    // Redis addReplyHumanLongDouble: "%.17Lf" of the double with trailing zeros trimmed; a double in RESP3.
    private static void WriteCoordinate(CommandContext context, double value) =>
        RespWriter.WriteDouble(context.Reply, LongDouble.FromDouble(value).ToFixed17(), context.Protocol);

    private static string PrintfFixed6(double value) => PrintfFixed(value, 6);

    // printf's "%.Nf": exact decimal expansion rounded to N places, "inf", "-inf" and "nan" spelled as glibc does.
    private static string PrintfFixed(double value, int decimals) =>
        double.IsNaN(value) ? (double.IsNegative(value) ? "-nan" : "nan")
        : double.IsInfinity(value) ? (value < 0 ? "-inf" : "inf")
        : value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private struct SearchShape
    {
        public bool Circular;
        public double Longitude;
        public double Latitude;
        public double Conversion;
        public double Radius;
        public double Width;
        public double Height;
    }

    private readonly record struct GeoMatch(byte[] Member, double Score, double Longitude, double Latitude, double Distance);
}
