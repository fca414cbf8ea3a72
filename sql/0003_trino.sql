-- firelake catalog, migration 3: the Trino (Athena engine version 3)
-- functions that Athena queries use, in the schema fl_trino.
--
-- DESIGN
--
-- A user's Athena query runs in PostgreSQL as a role whose search_path is
-- "fl_trino, pg_catalog": a function here wins over a built-in of the same
-- name and argument types, which is how split_part, cardinality,
-- regexp_like, regexp_replace, regexp_count, substr and concat get Trino's
-- semantics.  Types follow src/sqlrewrite.h: timestamp is "timestamp without
-- time zone" holding UTC (Athena's session zone), varchar text, double
-- double precision, json jsonb (JSON given as text is accepted too).
-- Overloads taking timestamptz (now(), current_timestamp) and date exist
-- wherever an implicit cast would otherwise pick the wrong one.
--
-- Speed.  Queries scan millions of rows with parallel workers, so
-- per-row functions are LANGUAGE sql bodies simple enough for the planner
-- to inline (a single expression, every name schema-qualified so that the
-- caller's search_path cannot change what they mean, no sub-select, not
-- STRICT unless the body is strict).  Once inlined, arguments that are
-- constants in the query (units, formats, JSON paths, patterns) fold at
-- plan time: date_add('day', 1, ts) becomes ts + '1 day',
-- json_extract_scalar(j, '$.a.b') a CASE over j #> '{a,b}', regexp_like(s,
-- p) s ~ <p translated once>.  The translations (_df_pattern, _dp_spec,
-- _json_path, _java_regex) are IMMUTABLE plpgsql, run once per query when
-- their argument is constant.  A body names each row argument once where
-- it can: the planner copies an argument into every place its parameter
-- appears (a costly argument is evaluated that many times), or refuses to
-- inline when the argument is costlier than ten operators (then the SQL
-- function runs per row, ~4 us).  from_iso8601_timestamp, whose tests need
-- its argument a dozen times, is plpgsql for that reason.  Everything is
-- PARALLEL SAFE; aggregates have combine functions.  Per-row costs
-- measured on one core: date_format, date_add, date_diff, year, split_part,
-- json_extract_scalar(jsonb), regexp_like: 0.1-0.5 us; fl_try_cast_bigint
-- 0.4 us; from_iso8601_timestamp 1.5 us; json_extract_scalar(text) 3 us
-- (malformed JSON must give NULL: an exception block); approx_percentile
-- ~8 us (see there).
--
-- Volatility.  IMMUTABLE where the result depends on the arguments only.
-- date_format and to_iso8601 are STABLE although deterministic: they are
-- built on to_char, which PostgreSQL declares STABLE, and an IMMUTABLE SQL
-- function containing a STABLE call is never inlined (that costs 6x per
-- row in GROUP BY date_format(...); measured).  Nothing here uses TM
-- (locale) patterns or the session time zone, so no result depends on
-- settings.
--
-- Errors.  Raised as SQLSTATE 22023 with Trino's message text ("'foo' is
-- not a valid Timestamp field", "Index must be greater than zero",
-- "Invalid JSON path: '$.'" ...).  In an inlined body an error comes from
-- _fail(message, typed NULL, dependency): its third argument ties the call
-- to the argument being checked, so that the planner never folds (and
-- raises) an arm that a non-constant condition guards.
--
-- Choices where PostgreSQL cannot do what Trino does (each documented at
-- its function): approx_distinct is exact; approx_percentile is a t-digest
-- (same scale function and interpolation as Trino's) that is exact for
-- small inputs; to_iso8601(timestamp) has no zone suffix (Trino's
-- timestamp(3) form), to_iso8601(timestamptz) ends in 'Z'; JSON numbers
-- from a jsonb column come back normalized (1e2 -> 100); Java regex
-- syntax is translated to PostgreSQL's ARE syntax, refusing the few
-- constructs ARE cannot express.
--
-- TRY_CAST(x AS T) is rewritten to fl_try_cast_<t>(x); those functions
-- return NULL wherever Trino's CAST raises, parse text exactly as Trino
-- does (Java trim, no 'yes'/'on' booleans, no 'T' in timestamps ...), and
-- need no exception block (a subtransaction per call) except for JSON
-- text and for argument types without an overload of their own.

CREATE SCHEMA fl_trino;
GRANT USAGE ON SCHEMA fl_trino TO PUBLIC;

-- ---- helpers ---------------------------------------------------------------

-- Raises msg (SQLSTATE 22023) and never returns.  typ gives the result type
-- (pass a typed NULL); dep is the value the failing check depends on (see
-- DESIGN).  A NULL message returns NULL instead, so that a message built
-- from a NULL argument gives Trino's NULL result.
CREATE FUNCTION fl_trino._fail(msg text, typ anyelement, dep anycompatible)
RETURNS anyelement LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF msg IS NULL THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = msg;
END $$;

-- The characters Java's String.trim() removes: U+0001..U+0020.
CREATE FUNCTION fl_trino._java_ws() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT pg_catalog.string_agg(pg_catalog.chr(c), '' ORDER BY c)
FROM pg_catalog.generate_series(1, 32) AS c $$;

CREATE FUNCTION fl_trino._java_trim(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.btrim(s, fl_trino._java_ws()) $$;

-- Microseconds since 1970-01-01 00:00, exactly (date_part's epoch is a
-- double).  ts appears once: see "one reference" under date_add.
CREATE FUNCTION fl_trino._epoch_us(ts timestamp) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT (EXTRACT(EPOCH FROM ts) * 1000000)::bigint $$;

-- Java's Double.toString / Float.toString of the shortest round-trip digits
-- PostgreSQL prints: plain with at least one fraction digit when
-- 1e-3 <= |x| < 1e7, else d.dddE<n>.
CREATE FUNCTION fl_trino._java_number_text(shortest text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    m text[];
    sign text;
    digits text;
    point int;      -- the decimal point is after this many digits
    lead int;
BEGIN
    IF shortest IN ('NaN', 'Infinity', '-Infinity') THEN
        RETURN shortest;
    END IF;
    m := pg_catalog.regexp_match(shortest, '^(-?)([0-9]+)(?:\.([0-9]+))?(?:e([-+][0-9]+))?$');
    IF m IS NULL THEN
        RETURN shortest;
    END IF;
    sign := m[1];
    digits := m[2] || coalesce(m[3], '');
    point := pg_catalog.length(m[2]) + coalesce(m[4]::int, 0);
    lead := pg_catalog.length(digits) - pg_catalog.length(pg_catalog.ltrim(digits, '0'));
    digits := pg_catalog.ltrim(digits, '0');
    point := point - lead;
    digits := pg_catalog.rtrim(digits, '0');
    IF digits = '' THEN
        RETURN sign || '0.0';
    END IF;
    IF point > -3 AND point <= 7 THEN            -- 1e-3 <= |x| < 1e7
        IF point <= 0 THEN
            RETURN sign || '0.' || pg_catalog.repeat('0', -point) || digits;
        ELSIF pg_catalog.length(digits) <= point THEN
            RETURN sign || pg_catalog.rpad(digits, point, '0') || '.0';
        END IF;
        RETURN sign || pg_catalog.substr(digits, 1, point) || '.' || pg_catalog.substr(digits, point + 1);
    END IF;
    RETURN sign || pg_catalog.substr(digits, 1, 1) || '.'
        || CASE WHEN pg_catalog.length(digits) > 1 THEN pg_catalog.substr(digits, 2) ELSE '0' END
        || 'E' || (point - 1)::text;
END $$;

-- The JSON text of j without the blanks jsonb's output adds (Trino prints
-- JSON compactly: {"a":1,"b":[1,2]}).
CREATE FUNCTION fl_trino._json_compact(j jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    t text := pg_catalog.jsonb_typeof(j);
    r text;
BEGIN
    IF t = 'object' THEN
        SELECT '{' || coalesce(pg_catalog.string_agg(pg_catalog.to_jsonb(k)::text || ':'
                   || fl_trino._json_compact(v), ',' ORDER BY n), '') || '}'
        INTO r FROM pg_catalog.jsonb_each(j) WITH ORDINALITY AS e(k, v, n);
        RETURN r;
    ELSIF t = 'array' THEN
        SELECT '[' || coalesce(pg_catalog.string_agg(fl_trino._json_compact(v), ',' ORDER BY n), '')
               || ']'
        INTO r FROM pg_catalog.jsonb_array_elements(j) WITH ORDINALITY AS e(v, n);
        RETURN r;
    END IF;
    RETURN j::text;
END $$;

-- A value as Athena prints it in a result (the CLI / CSV form): timestamps
-- with milliseconds, doubles as Java prints them, arrays as [a, b], JSON
-- compact, NULL as NULL.  Used by the tests; the query engine may use it
-- for result files.
CREATE FUNCTION fl_trino._athena_text(v anyelement) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    t regtype := pg_catalog.pg_typeof(v);
    r text;
BEGIN
    IF v IS NULL THEN
        RETURN NULL;
    ELSIF t = 'double precision'::regtype THEN
        RETURN fl_trino._java_number_text(v::text);
    ELSIF t = 'real'::regtype THEN
        RETURN fl_trino._java_number_text(v::text);
    ELSIF t = 'timestamp without time zone'::regtype THEN
        RETURN pg_catalog.to_char(v, 'YYYY-MM-DD HH24:MI:SS.MS');
    ELSIF t = 'timestamp with time zone'::regtype THEN
        RETURN pg_catalog.to_char(v::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS "UTC"');
    ELSIF t = 'jsonb'::regtype THEN
        RETURN fl_trino._json_compact(v::jsonb);
    ELSIF t = 'json'::regtype THEN
        RETURN fl_trino._json_compact(v::text::jsonb);
    ELSIF t::text LIKE '%[]' THEN
        EXECUTE 'SELECT ''['' || coalesce(pg_catalog.string_agg(coalesce(fl_trino._athena_text(e), ''NULL''), '', '' ORDER BY n), '''') || '']'' FROM pg_catalog.unnest($1) WITH ORDINALITY AS u(e, n)'
            INTO r USING v;
        RETURN r;
    END IF;
    RETURN v::text;
END $$;

-- ---- date and time -----------------------------------------------------------

-- from_unixtime(unixtime): Trino rounds to milliseconds (Math.round).
CREATE FUNCTION fl_trino.from_unixtime(unixtime double precision) RETURNS timestamp
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT TIMESTAMP '1970-01-01 00:00:00' + pg_catalog.floor(unixtime * 1000 + 0.5) * INTERVAL '1 millisecond' $$;

CREATE FUNCTION fl_trino.from_unixtime(unixtime bigint) RETURNS timestamp
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT TIMESTAMP '1970-01-01 00:00:00' + unixtime * INTERVAL '1 second' $$;

-- from_unixtime(unixtime, zone) is a timestamp with time zone in Trino;
-- here the wall-clock time in that zone (there is no zoned timestamp).
CREATE FUNCTION fl_trino.from_unixtime(unixtime double precision, zone text) RETURNS timestamp
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.timezone(zone, pg_catalog.timezone('UTC', fl_trino.from_unixtime(unixtime))) $$;

CREATE FUNCTION fl_trino.to_unixtime(ts timestamp) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.date_part('epoch', ts) $$;

CREATE FUNCTION fl_trino.to_unixtime(ts timestamptz) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.date_part('epoch', pg_catalog.timezone('UTC', ts)) $$;

CREATE FUNCTION fl_trino.to_unixtime(d date) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.date_part('epoch', d::timestamp) $$;

CREATE FUNCTION fl_trino.current_timezone() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 'UTC'::text $$;

-- Fields: bigint, as Trino returns them.  day_of_week is ISO (Monday = 1),
-- week and year_of_week ISO 8601.
CREATE FUNCTION fl_trino._field(f text, ts timestamp) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.floor(pg_catalog.date_part(f, ts))::bigint $$;

CREATE FUNCTION fl_trino.year(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('year', ts) $$;
CREATE FUNCTION fl_trino.quarter(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('quarter', ts) $$;
CREATE FUNCTION fl_trino.month(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('month', ts) $$;
CREATE FUNCTION fl_trino.week(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('week', ts) $$;
CREATE FUNCTION fl_trino.week_of_year(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('week', ts) $$;
CREATE FUNCTION fl_trino.year_of_week(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('isoyear', ts) $$;
CREATE FUNCTION fl_trino.yow(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('isoyear', ts) $$;
CREATE FUNCTION fl_trino.day(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('day', ts) $$;
CREATE FUNCTION fl_trino.day_of_month(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('day', ts) $$;
CREATE FUNCTION fl_trino.day_of_week(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('isodow', ts) $$;
CREATE FUNCTION fl_trino.dow(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('isodow', ts) $$;
CREATE FUNCTION fl_trino.day_of_year(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('doy', ts) $$;
CREATE FUNCTION fl_trino.doy(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('doy', ts) $$;
CREATE FUNCTION fl_trino.hour(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('hour', ts) $$;
CREATE FUNCTION fl_trino.minute(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('minute', ts) $$;
CREATE FUNCTION fl_trino.second(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('second', ts) $$;
CREATE FUNCTION fl_trino.millisecond(ts timestamp) RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._field('milliseconds', ts) % 1000 $$;

-- The same for date and timestamptz (in UTC, Athena's session zone).
DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['year', 'quarter', 'month', 'week', 'week_of_year', 'year_of_week',
                             'yow', 'day', 'day_of_month', 'day_of_week', 'dow', 'day_of_year', 'doy']
    LOOP
        EXECUTE pg_catalog.format('CREATE FUNCTION fl_trino.%I(d date) RETURNS bigint LANGUAGE sql '
            'IMMUTABLE STRICT PARALLEL SAFE AS ''SELECT fl_trino.%I(d::timestamp)''', f, f);
    END LOOP;
    FOREACH f IN ARRAY ARRAY['year', 'quarter', 'month', 'week', 'week_of_year', 'year_of_week',
                             'yow', 'day', 'day_of_month', 'day_of_week', 'dow', 'day_of_year', 'doy',
                             'hour', 'minute', 'second', 'millisecond']
    LOOP
        EXECUTE pg_catalog.format('CREATE FUNCTION fl_trino.%I(ts timestamptz) RETURNS bigint '
            'LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS '
            '''SELECT fl_trino.%I(pg_catalog.timezone(''''UTC'''', ts))''', f, f);
    END LOOP;
END $$;

CREATE FUNCTION fl_trino.last_day_of_month(ts timestamp) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT (pg_catalog.date_trunc('month', ts) + INTERVAL '1 month - 1 day')::date $$;

CREATE FUNCTION fl_trino.last_day_of_month(d date) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT fl_trino.last_day_of_month(d::timestamp) $$;

-- date_add(unit, value, x): Joda's field arithmetic in UTC, which is
-- PostgreSQL's interval arithmetic: a month added to Jan 31 is Feb 28/29.
--
-- One reference: an inlined body that names an argument more than once
-- either evaluates it that many times or, when the argument is costly, is
-- not inlined at all (a per-row SQL function call, ~4 us).  So x appears
-- once, and the unit (a constant in practice) is turned into an interval
-- by a helper that folds at plan time.
CREATE FUNCTION fl_trino._unit_interval(unit text, value bigint, kind text) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE pg_catalog.lower(unit)
    WHEN 'millisecond' THEN CASE WHEN kind = 'Timestamp' THEN value * INTERVAL '1 millisecond' END
    WHEN 'second' THEN CASE WHEN kind = 'Timestamp' THEN value * INTERVAL '1 second' END
    WHEN 'minute' THEN CASE WHEN kind = 'Timestamp' THEN value * INTERVAL '1 minute' END
    WHEN 'hour' THEN CASE WHEN kind = 'Timestamp' THEN value * INTERVAL '1 hour' END
    WHEN 'day' THEN value * INTERVAL '1 day'
    WHEN 'week' THEN value * INTERVAL '7 days'
    WHEN 'month' THEN value * INTERVAL '1 month'
    WHEN 'quarter' THEN value * INTERVAL '3 months'
    WHEN 'year' THEN value * INTERVAL '1 year'
END
    + CASE WHEN pg_catalog.lower(unit) IN ('day', 'week', 'month', 'quarter', 'year')
               OR (kind = 'Timestamp' AND pg_catalog.lower(unit) IN ('millisecond', 'second', 'minute', 'hour'))
           THEN INTERVAL '0'
           ELSE fl_trino._fail('''' || pg_catalog.lower(unit) || ''' is not a valid ' || kind || ' field',
                               NULL::interval, unit) END $$;

CREATE FUNCTION fl_trino.date_add(unit text, value bigint, ts timestamp) RETURNS timestamp
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ts + fl_trino._unit_interval(unit, value, 'Timestamp') $$;

CREATE FUNCTION fl_trino.date_add(unit text, value bigint, d date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT (d + fl_trino._unit_interval(unit, value, 'DATE'))::date $$;

CREATE FUNCTION fl_trino.date_add(unit text, value bigint, ts timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT pg_catalog.timezone('UTC', fl_trino.date_add(unit, value, pg_catalog.timezone('UTC', ts))) $$;

-- Whole months from a to b as Joda counts them (month and year fields of
-- date_diff): calendar months, less one when b's day and time of month
-- fall before a's, a's day clamped to the end of b's month.  That is the
-- largest m with a + m months <= b, PostgreSQL clamping as Joda does.
CREATE FUNCTION fl_trino._months(a timestamp, b timestamp) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT ((pg_catalog.date_part('year', b) - pg_catalog.date_part('year', a)) * 12
        + pg_catalog.date_part('month', b) - pg_catalog.date_part('month', a))::bigint $$;

CREATE FUNCTION fl_trino._month_diff(a timestamp, b timestamp) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN b >= a
    THEN fl_trino._months(a, b)
         - CASE WHEN a + fl_trino._months(a, b) * INTERVAL '1 month' > b THEN 1 ELSE 0 END
    ELSE CASE WHEN b + fl_trino._months(b, a) * INTERVAL '1 month' > a THEN 1 ELSE 0 END
         - fl_trino._months(b, a)
END $$;

-- date_diff(unit, t1, t2): t2 - t1 in whole units, truncated toward zero.
CREATE FUNCTION fl_trino.date_diff(unit text, t1 timestamp, t2 timestamp) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE pg_catalog.lower(unit)
    WHEN 'millisecond' THEN (fl_trino._epoch_us(t2) - fl_trino._epoch_us(t1)) / 1000
    WHEN 'second' THEN (fl_trino._epoch_us(t2) - fl_trino._epoch_us(t1)) / 1000000
    WHEN 'minute' THEN (fl_trino._epoch_us(t2) - fl_trino._epoch_us(t1)) / 60000000
    WHEN 'hour' THEN (fl_trino._epoch_us(t2) - fl_trino._epoch_us(t1)) / 3600000000
    WHEN 'day' THEN (fl_trino._epoch_us(t2) - fl_trino._epoch_us(t1)) / 86400000000
    WHEN 'week' THEN (fl_trino._epoch_us(t2) - fl_trino._epoch_us(t1)) / 604800000000
    WHEN 'month' THEN fl_trino._month_diff(t1, t2)
    WHEN 'quarter' THEN fl_trino._month_diff(t1, t2) / 3
    WHEN 'year' THEN fl_trino._month_diff(t1, t2) / 12
    ELSE fl_trino._fail('''' || pg_catalog.lower(unit) || ''' is not a valid Timestamp field',
                        NULL::bigint, unit)
END $$;

CREATE FUNCTION fl_trino.date_diff(unit text, d1 date, d2 date) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE pg_catalog.lower(unit)
    WHEN 'day' THEN (d2 - d1)::bigint
    WHEN 'week' THEN ((d2 - d1) / 7)::bigint
    WHEN 'month' THEN fl_trino._month_diff(d1::timestamp, d2::timestamp)
    WHEN 'quarter' THEN fl_trino._month_diff(d1::timestamp, d2::timestamp) / 3
    WHEN 'year' THEN fl_trino._month_diff(d1::timestamp, d2::timestamp) / 12
    ELSE fl_trino._fail('''' || pg_catalog.lower(unit) || ''' is not a valid DATE field',
                        NULL::bigint, unit)
END $$;

CREATE FUNCTION fl_trino.date_diff(unit text, t1 timestamptz, t2 timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino.date_diff(unit, pg_catalog.timezone('UTC', t1), pg_catalog.timezone('UTC', t2)) $$;

-- ---- date_format, date_parse (MySQL format specifiers) -------------------------

-- A MySQL/Trino date_format pattern as a to_char pattern.  Literal text is
-- double-quoted (which also keeps neighbouring patterns apart: %d%j must
-- not read as DDDDD).  Trino refuses %D %U %u %V %w %X; any other %c is
-- the character c; a trailing lone % prints nothing.
CREATE FUNCTION fl_trino._df_pattern(fmt text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    out text := '';
    lit text := '';
    c text;
    p text;
    i int := 1;
    n int := pg_catalog.length(fmt);
BEGIN
    WHILE i <= n LOOP
        c := pg_catalog.substr(fmt, i, 1);
        IF c <> '%' THEN
            lit := lit || c;
        ELSIF i < n THEN
            i := i + 1;
            c := pg_catalog.substr(fmt, i, 1);
            IF c IN ('D', 'U', 'u', 'V', 'w', 'X') THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = pg_catalog.format('%%%s not supported in date format string', c);
            END IF;
            p := CASE c
                WHEN 'a' THEN 'Dy'       WHEN 'b' THEN 'Mon'      WHEN 'c' THEN 'FMMM'
                WHEN 'd' THEN 'DD'       WHEN 'e' THEN 'FMDD'     WHEN 'f' THEN 'US'
                WHEN 'H' THEN 'HH24'     WHEN 'h' THEN 'HH12'     WHEN 'I' THEN 'HH12'
                WHEN 'i' THEN 'MI'       WHEN 'j' THEN 'DDD'      WHEN 'k' THEN 'FMHH24'
                WHEN 'l' THEN 'FMHH12'   WHEN 'M' THEN 'FMMonth'  WHEN 'm' THEN 'MM'
                WHEN 'p' THEN 'AM'       WHEN 'r' THEN 'HH12":"MI":"SS" "AM'
                WHEN 'S' THEN 'SS'       WHEN 's' THEN 'SS'       WHEN 'T' THEN 'HH24":"MI":"SS'
                WHEN 'v' THEN 'IW'       WHEN 'W' THEN 'FMDay'    WHEN 'x' THEN 'IYYY'
                WHEN 'Y' THEN 'YYYY'     WHEN 'y' THEN 'YY'
            END;
            IF p IS NULL THEN
                lit := lit || c;
            ELSE
                out := out || '"' || pg_catalog.replace(pg_catalog.replace(lit, '\', '\\'), '"', '\"')
                    || '"' || p;
                lit := '';
            END IF;
        END IF;
        i := i + 1;
    END LOOP;
    RETURN out || '"' || pg_catalog.replace(pg_catalog.replace(lit, '\', '\\'), '"', '\"') || '"';
END $$;

-- date_format(timestamp, format): STABLE so that it inlines to a bare
-- to_char (see DESIGN); %f prints microseconds (Trino: milliseconds * 1000).
CREATE FUNCTION fl_trino.date_format(ts timestamp, fmt text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT pg_catalog.to_char(ts, fl_trino._df_pattern(fmt)) $$;

CREATE FUNCTION fl_trino.date_format(ts timestamptz, fmt text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT pg_catalog.to_char(pg_catalog.timezone('UTC', ts), fl_trino._df_pattern(fmt)) $$;

CREATE FUNCTION fl_trino.date_format(d date, fmt text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT pg_catalog.to_char(d::timestamp, fl_trino._df_pattern(fmt)) $$;

-- The parser of a date_parse format: {regex, field code of group 1, of
-- group 2 ...}.  Numbers take Joda's digit counts (1..max), names match
-- case-insensitively in full or abbreviated form, literals match exactly
-- but for case, as Joda's do.
CREATE FUNCTION fl_trino._dp_spec(fmt text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    months CONSTANT text := '(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec)';
    days CONSTANT text := '(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)';
    re text := '';
    codes text[] := '{}';
    c text;
    i int := 1;
    n int := pg_catalog.length(fmt);
BEGIN
    WHILE i <= n LOOP
        c := pg_catalog.substr(fmt, i, 1);
        IF c = '%' AND i < n THEN
            i := i + 1;
            c := pg_catalog.substr(fmt, i, 1);
            IF c IN ('D', 'U', 'u', 'V', 'w', 'X') THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = pg_catalog.format('%%%s not supported in date format string', c);
            END IF;
            CASE
                WHEN c IN ('a', 'W') THEN re := re || days; codes := codes || 'a'::text;
                WHEN c IN ('b', 'M') THEN re := re || months; codes := codes || 'M'::text;
                WHEN c IN ('c', 'm') THEN re := re || '([0-9]{1,2})'; codes := codes || 'm'::text;
                WHEN c IN ('d', 'e') THEN re := re || '([0-9]{1,2})'; codes := codes || 'd'::text;
                WHEN c = 'f' THEN re := re || '([0-9]{1,9})'; codes := codes || 'f'::text;
                WHEN c IN ('H', 'k') THEN re := re || '([0-9]{1,2})'; codes := codes || 'H'::text;
                WHEN c IN ('h', 'I', 'l') THEN re := re || '([0-9]{1,2})'; codes := codes || 'h'::text;
                WHEN c = 'i' THEN re := re || '([0-9]{1,2})'; codes := codes || 'i'::text;
                WHEN c = 'j' THEN re := re || '([0-9]{1,3})'; codes := codes || 'j'::text;
                WHEN c = 'p' THEN re := re || '(am|pm)'; codes := codes || 'p'::text;
                WHEN c = 'r' THEN
                    re := re || '([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2}) (am|pm)';
                    codes := codes || ARRAY['h', 'i', 's', 'p'];
                WHEN c IN ('S', 's') THEN re := re || '([0-9]{1,2})'; codes := codes || 's'::text;
                WHEN c = 'T' THEN
                    re := re || '([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})';
                    codes := codes || ARRAY['H', 'i', 's'];
                WHEN c = 'v' THEN re := re || '([0-9]{1,2})'; codes := codes || 'v'::text;
                WHEN c = 'x' THEN re := re || '([-+]?[0-9]{1,4})'; codes := codes || 'x'::text;
                WHEN c = 'Y' THEN re := re || '([-+]?[0-9]{1,4})'; codes := codes || 'Y'::text;
                WHEN c = 'y' THEN re := re || '([0-9]{2})'; codes := codes || 'y'::text;
                ELSE re := re || CASE WHEN c ~ '^[[:alnum:]]$' THEN c ELSE '\' || c END;
            END CASE;
        ELSIF c <> '%' THEN
            re := re || CASE WHEN c ~ '^[[:alnum:]]$' THEN c ELSE '\' || c END;
        END IF;
        i := i + 1;
    END LOOP;
    RETURN ARRAY['(?i)^' || re || '$'] || codes;
END $$;

CREATE FUNCTION fl_trino._range_error(s text, v bigint, field text, lo bigint, hi bigint) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
        MESSAGE = pg_catalog.format('Cannot parse "%s": Value %s for %s must be in the range [%s,%s]',
                                    s, v, field, lo, hi);
END $$;

CREATE FUNCTION fl_trino._days_in_month(y int, m int) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN y IS NULL OR m IS NULL THEN NULL
        WHEN m = 2 THEN
            CASE WHEN y % 4 = 0 AND (y % 100 <> 0 OR y % 400 = 0) THEN 29 ELSE 28 END
        WHEN m IN (4, 6, 9, 11) THEN 30 ELSE 31 END $$;

-- A date from (proleptic ISO) year, month, day, after Joda's range checks;
-- ISO year 0 is 1 BC.
CREATE FUNCTION fl_trino._ymd(s text, y int, m int, d int) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    IF m < 1 OR m > 12 THEN
        PERFORM fl_trino._range_error(s, m, 'monthOfYear', 1, 12);
    END IF;
    IF d < 1 OR d > fl_trino._days_in_month(y, m) THEN
        PERFORM fl_trino._range_error(s, d, 'dayOfMonth', 1, fl_trino._days_in_month(y, m));
    END IF;
    RETURN pg_catalog.make_date(CASE WHEN y <= 0 THEN y - 1 ELSE y END, m, d);
END $$;

-- The Thursday-based default of Joda: week w, ISO day e of week-year y.
CREATE FUNCTION fl_trino._iso_week_date(s text, y int, w int, e int) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    jan4 date := fl_trino._ymd(s, y, 1, 4);
    weeks int := pg_catalog.date_part('week', fl_trino._ymd(s, y, 12, 28))::int;
BEGIN
    IF w < 1 OR w > weeks THEN
        PERFORM fl_trino._range_error(s, w, 'weekOfWeekyear', 1, weeks);
    END IF;
    IF e < 1 OR e > 7 THEN
        PERFORM fl_trino._range_error(s, e, 'dayOfWeek', 1, 7);
    END IF;
    RETURN jan4 - (pg_catalog.date_part('isodow', jan4)::int - 1) + (w - 1) * 7 + (e - 1);
END $$;

CREATE FUNCTION fl_trino._hms(s text, h int, mi int, sec int) RETURNS interval
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    IF h > 23 THEN
        PERFORM fl_trino._range_error(s, h, 'hourOfDay', 0, 23);
    END IF;
    IF mi > 59 THEN
        PERFORM fl_trino._range_error(s, mi, 'minuteOfHour', 0, 59);
    END IF;
    IF sec > 59 THEN
        PERFORM fl_trino._range_error(s, sec, 'secondOfMinute', 0, 59);
    END IF;
    RETURN pg_catalog.make_interval(hours => h, mins => mi, secs => sec);
END $$;

-- Milliseconds in the fraction digits f of a unit of unit_ms (truncated,
-- as Joda parses fractions).
CREATE FUNCTION fl_trino._fraction_ms(f text, unit_ms bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.floor(('0.' || f)::numeric * unit_ms)::bigint $$;

CREATE FUNCTION fl_trino._date_parse(s text, spec text[]) RETURNS timestamp
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    m text[] := pg_catalog.regexp_match(s, spec[1]);
    y int := 1970;
    mo int := 1;
    d int := 1;
    h int := 0;
    h12 int;
    pm boolean := false;
    mi int := 0;
    sec int := 0;
    ms bigint := 0;
    doy int;
    wy int;
    wk int;
    v text;
    day0 date;
    off interval := INTERVAL '0';
BEGIN
    IF m IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = pg_catalog.format('Invalid format: "%s"', s);
    END IF;
    FOR i IN 1 .. coalesce(pg_catalog.array_length(m, 1), 0) LOOP
        v := pg_catalog.lower(m[i]);
        CASE spec[i + 1]
            WHEN 'Y' THEN y := v::int;
            WHEN 'y' THEN y := v::int + CASE WHEN v::int < 70 THEN 2000 ELSE 1900 END;
            WHEN 'm' THEN mo := v::int;
            WHEN 'M' THEN mo := pg_catalog.array_position(ARRAY['jan', 'feb', 'mar', 'apr', 'may', 'jun',
                'jul', 'aug', 'sep', 'oct', 'nov', 'dec'], pg_catalog.substr(v, 1, 3));
            WHEN 'd' THEN d := v::int;
            WHEN 'H' THEN h := v::int;
            WHEN 'h' THEN h12 := v::int;
            WHEN 'p' THEN pm := v = 'pm';
            WHEN 'i' THEN mi := v::int;
            WHEN 's' THEN sec := v::int;
            WHEN 'f' THEN ms := fl_trino._fraction_ms(v, 1000);
            WHEN 'j' THEN doy := v::int;
            WHEN 'x' THEN wy := v::int;
            WHEN 'v' THEN wk := v::int;
            WHEN 'z' THEN
                IF v <> 'z' THEN
                    off := pg_catalog.make_interval(hours => pg_catalog.substr(v, 2, 2)::int,
                                                    mins => pg_catalog.right(v, 2)::int);
                    IF pg_catalog.substr(v, 1, 1) = '-' THEN
                        off := -off;
                    END IF;
                END IF;
            ELSE NULL;    -- day names: parsed, not used
        END CASE;
    END LOOP;
    IF h12 IS NOT NULL THEN
        IF h12 < 1 OR h12 > 12 THEN
            PERFORM fl_trino._range_error(s, h12, 'clockhourOfHalfday', 1, 12);
        END IF;
        h := h12 % 12;
    END IF;
    IF pm AND h < 12 THEN
        h := h + 12;
    END IF;
    IF wy IS NOT NULL OR wk IS NOT NULL THEN
        day0 := fl_trino._iso_week_date(s, coalesce(wy, y), coalesce(wk, 1), 4);
    ELSIF doy IS NOT NULL THEN
        IF doy < 1 OR doy > 337 + fl_trino._days_in_month(y, 2) THEN
            PERFORM fl_trino._range_error(s, doy, 'dayOfYear', 1, 337 + fl_trino._days_in_month(y, 2));
        END IF;
        day0 := fl_trino._ymd(s, y, 1, 1) + (doy - 1);
    ELSE
        day0 := fl_trino._ymd(s, y, mo, d);
    END IF;
    RETURN day0 + fl_trino._hms(s, h, mi, sec) + ms * INTERVAL '1 millisecond' - off;
END $$;

-- date_parse(string, format): MySQL specifiers as in date_format; fields
-- not in the format default to 1970-01-01 00:00:00; %f keeps milliseconds.
-- Day names (%a %W) are matched and ignored.
CREATE FUNCTION fl_trino.date_parse(s text, fmt text) RETURNS timestamp
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._date_parse(s, fl_trino._dp_spec(fmt)) $$;

-- ---- format_datetime, parse_datetime (Joda patterns) -----------------------

-- A Joda DateTimeFormat pattern as {kind, text} pairs: kind 'L' for a run
-- of one letter (text = the run), 'T' for literal text (quoted '...', where
-- '' is a quote, or any other character).
CREATE FUNCTION fl_trino._joda_tokens(fmt text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    out text[] := '{}';
    n int := pg_catalog.length(fmt);
    i int := 1;
    j int;
    c text;
    lit text;
BEGIN
    WHILE i <= n LOOP
        c := pg_catalog.substr(fmt, i, 1);
        IF c ~ '^[A-Za-z]$' THEN
            j := i;
            WHILE pg_catalog.substr(fmt, j + 1, 1) = c LOOP
                j := j + 1;
            END LOOP;
            out := out || ARRAY['L', pg_catalog.substr(fmt, i, j - i + 1)];
            i := j + 1;
        ELSIF c = '''' THEN
            lit := '';
            i := i + 1;
            LOOP
                IF i > n THEN
                    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                        MESSAGE = pg_catalog.format('Unterminated quote in pattern: %s', fmt);
                END IF;
                c := pg_catalog.substr(fmt, i, 1);
                IF c = '''' AND pg_catalog.substr(fmt, i + 1, 1) = '''' THEN
                    lit := lit || '''';
                    i := i + 2;
                ELSIF c = '''' THEN
                    i := i + 1;
                    EXIT;
                ELSE
                    lit := lit || c;
                    i := i + 1;
                END IF;
            END LOOP;
            out := out || ARRAY['T', CASE WHEN lit = '' THEN '''' ELSE lit END];
        ELSE
            out := out || ARRAY['T', c];
            i := i + 1;
        END IF;
    END LOOP;
    RETURN out;
END $$;

CREATE FUNCTION fl_trino._joda_illegal(run text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
        MESSAGE = pg_catalog.format('Illegal pattern component: %s', run);
END $$;

-- A Joda pattern as a to_char pattern.  Zones print as UTC's: Z +0000,
-- ZZ +00:00, ZZZ and z UTC.
CREATE FUNCTION fl_trino._jf_pattern(fmt text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    t text[] := fl_trino._joda_tokens(fmt);
    out text := '';
    r text;
    n int;
    p text;
BEGIN
    FOR i IN 1 .. coalesce(pg_catalog.array_length(t, 1), 0) / 2 LOOP
        r := t[2 * i];
        n := pg_catalog.length(r);
        IF t[2 * i - 1] = 'T' THEN
            p := '"' || pg_catalog.replace(pg_catalog.replace(r, '\', '\\'), '"', '\"') || '"';
        ELSE
            p := CASE pg_catalog.substr(r, 1, 1)
                WHEN 'y' THEN CASE WHEN n = 2 THEN 'YY' WHEN n >= 4 THEN 'YYYY' ELSE 'FMYYYY' END
                WHEN 'Y' THEN CASE WHEN n = 2 THEN 'YY' WHEN n >= 4 THEN 'YYYY' ELSE 'FMYYYY' END
                WHEN 'x' THEN CASE WHEN n = 2 THEN 'IY' ELSE 'IYYY' END
                WHEN 'w' THEN CASE WHEN n = 1 THEN 'FMIW' ELSE 'IW' END
                WHEN 'M' THEN CASE n WHEN 1 THEN 'FMMM' WHEN 2 THEN 'MM' WHEN 3 THEN 'Mon' ELSE 'FMMonth' END
                WHEN 'd' THEN CASE WHEN n = 1 THEN 'FMDD' ELSE 'DD' END
                WHEN 'D' THEN CASE WHEN n = 3 THEN 'DDD' ELSE 'FMDDD' END
                WHEN 'E' THEN CASE WHEN n <= 3 THEN 'Dy' ELSE 'FMDay' END
                WHEN 'e' THEN 'ID'
                WHEN 'a' THEN 'AM'
                WHEN 'H' THEN CASE WHEN n = 1 THEN 'FMHH24' ELSE 'HH24' END
                WHEN 'h' THEN CASE WHEN n = 1 THEN 'FMHH12' ELSE 'HH12' END
                WHEN 'm' THEN CASE WHEN n = 1 THEN 'FMMI' ELSE 'MI' END
                WHEN 's' THEN CASE WHEN n = 1 THEN 'FMSS' ELSE 'SS' END
                WHEN 'S' THEN 'FF' || LEAST(n, 6)::text || pg_catalog.repeat('"0"', GREATEST(n - 6, 0))
                WHEN 'Z' THEN CASE n WHEN 1 THEN '"+0000"' WHEN 2 THEN '"+00:00"' ELSE '"UTC"' END
                WHEN 'z' THEN '"UTC"'
                WHEN 'G' THEN 'AD'
                ELSE fl_trino._joda_illegal(r)
            END;
        END IF;
        out := out || p || '""';
    END LOOP;
    RETURN out;
END $$;

-- format_datetime(timestamp, joda_pattern): STABLE as date_format is.
CREATE FUNCTION fl_trino.format_datetime(ts timestamp, fmt text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT pg_catalog.to_char(ts, fl_trino._jf_pattern(fmt)) $$;

CREATE FUNCTION fl_trino.format_datetime(ts timestamptz, fmt text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT pg_catalog.to_char(pg_catalog.timezone('UTC', ts), fl_trino._jf_pattern(fmt)) $$;

-- The parser of a Joda pattern, in _dp_spec's form.  Z/ZZ read Z or an
-- offset (+hh:mm, +hhmm), which is applied; yy uses date_parse's pivot
-- (1970-2069; Joda's moves with the current year).
CREATE FUNCTION fl_trino._jp_spec(fmt text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    months CONSTANT text := '(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec)';
    days CONSTANT text := '(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)';
    t text[] := fl_trino._joda_tokens(fmt);
    re text := '';
    codes text[] := '{}';
    r text;
    n int;
BEGIN
    FOR i IN 1 .. coalesce(pg_catalog.array_length(t, 1), 0) / 2 LOOP
        r := t[2 * i];
        n := pg_catalog.length(r);
        IF t[2 * i - 1] = 'T' THEN
            re := re || pg_catalog.regexp_replace(r, '([^[:alnum:]])', '\\\1', 'g');
            CONTINUE;
        END IF;
        CASE pg_catalog.substr(r, 1, 1)
            WHEN 'y', 'Y' THEN
                IF n = 2 THEN
                    re := re || '([0-9]{2})'; codes := codes || 'y'::text;
                ELSE
                    re := re || '([-+]?[0-9]{1,9})'; codes := codes || 'Y'::text;
                END IF;
            WHEN 'x' THEN re := re || '([-+]?[0-9]{1,9})'; codes := codes || 'x'::text;
            WHEN 'w' THEN re := re || '([0-9]{1,2})'; codes := codes || 'v'::text;
            WHEN 'M' THEN
                IF n <= 2 THEN
                    re := re || '([0-9]{1,2})'; codes := codes || 'm'::text;
                ELSE
                    re := re || months; codes := codes || 'M'::text;
                END IF;
            WHEN 'd' THEN re := re || '([0-9]{1,2})'; codes := codes || 'd'::text;
            WHEN 'D' THEN re := re || '([0-9]{1,3})'; codes := codes || 'j'::text;
            WHEN 'E' THEN re := re || days; codes := codes || 'a'::text;
            WHEN 'a' THEN re := re || '(am|pm)'; codes := codes || 'p'::text;
            WHEN 'H' THEN re := re || '([0-9]{1,2})'; codes := codes || 'H'::text;
            WHEN 'h' THEN re := re || '([0-9]{1,2})'; codes := codes || 'h'::text;
            WHEN 'm' THEN re := re || '([0-9]{1,2})'; codes := codes || 'i'::text;
            WHEN 's' THEN re := re || '([0-9]{1,2})'; codes := codes || 's'::text;
            WHEN 'S' THEN re := re || '([0-9]{1,9})'; codes := codes || 'f'::text;
            WHEN 'Z' THEN re := re || '(z|[-+][0-9]{2}:?[0-9]{2})'; codes := codes || 'z'::text;
            ELSE PERFORM fl_trino._joda_illegal(r);
        END CASE;
    END LOOP;
    RETURN ARRAY['(?i)^' || re || '$'] || codes;
END $$;

-- parse_datetime(string, joda_pattern): a timestamp with time zone in
-- Trino, the UTC timestamp here.
CREATE FUNCTION fl_trino.parse_datetime(s text, fmt text) RETURNS timestamp
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._date_parse(s, fl_trino._jp_spec(fmt)) $$;

-- ---- ISO 8601 --------------------------------------------------------------------

-- Joda's ISODateTimeFormat.dateTimeParser (want_time) or dateElementParser:
--   [yyyy[-MM[-dd] | -DDD | -Www[-e]]] ['T' [HH[(.,)f | :mm[(.,)f | :ss[(.,)f]]]] [Z | +-HH[[:]mm]]]
-- (a date, or 'T' and a time, or both; the offset only after 'T').  Parsed
-- piecewise: PostgreSQL's regular expressions with many optional groups
-- are very slow.
CREATE FUNCTION fl_trino._from_iso8601(s text, want_time boolean) RETURNS timestamp
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    tpos int := pg_catalog.strpos(s, 'T');
    d text := CASE WHEN tpos = 0 THEN s ELSE pg_catalog.substr(s, 1, tpos - 1) END;
    t text := CASE WHEN tpos = 0 THEN NULL ELSE pg_catalog.substr(s, tpos + 1) END;
    z text;
    f text;
    neg boolean := false;
    p text[];
    y int;
    day0 date := DATE '1970-01-01';
    tm interval := INTERVAL '0';
    off interval := INTERVAL '0';
    zp int;
BEGIN
    IF (t IS NOT NULL AND NOT want_time) OR (d = '' AND coalesce(t, '') !~ '^[0-9]') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = pg_catalog.format('Invalid format: "%s"', s);
    END IF;
    IF d <> '' THEN
        IF pg_catalog.substr(d, 1, 1) IN ('+', '-') THEN
            neg := pg_catalog.substr(d, 1, 1) = '-';
            d := pg_catalog.substr(d, 2);
        END IF;
        p := pg_catalog.string_to_array(d, '-');
        IF p[1] !~ '^[0-9]{1,9}$' OR pg_catalog.cardinality(p) > 3
           OR NOT (p[2] IS NULL OR p[2] ~ '^([0-9]{1,3}|W[0-9]{1,2})$')
           OR NOT (p[3] IS NULL OR (p[2] ~ '^[0-9]{1,2}$' AND p[3] ~ '^[0-9]{1,2}$')
                   OR (p[2] ~ '^W' AND p[3] ~ '^[0-9]$')) THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = pg_catalog.format('Invalid format: "%s"', s);
        END IF;
        y := CASE WHEN neg THEN -p[1]::int ELSE p[1]::int END;
        IF p[2] ~ '^W' THEN
            day0 := fl_trino._iso_week_date(s, y, pg_catalog.substr(p[2], 2)::int, coalesce(p[3]::int, 4));
        ELSIF pg_catalog.length(p[2]) = 3 THEN
            IF p[2]::int < 1 OR p[2]::int > 337 + fl_trino._days_in_month(y, 2) THEN
                PERFORM fl_trino._range_error(s, p[2]::int, 'dayOfYear', 1, 337 + fl_trino._days_in_month(y, 2));
            END IF;
            day0 := fl_trino._ymd(s, y, 1, 1) + (p[2]::int - 1);
        ELSE
            day0 := fl_trino._ymd(s, y, coalesce(p[2]::int, 1), coalesce(p[3]::int, 1));
        END IF;
    END IF;
    IF t IS NOT NULL THEN
        IF pg_catalog.right(t, 1) = 'Z' THEN
            z := 'Z';
            t := pg_catalog.left(t, -1);
        ELSE
            zp := GREATEST(pg_catalog.strpos(t, '+'), pg_catalog.strpos(t, '-'));
            IF zp > 0 THEN
                z := pg_catalog.substr(t, zp);
                t := pg_catalog.left(t, zp - 1);
                IF z !~ '^[-+][0-9]{2}(:?[0-9]{2})?$' THEN
                    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                        MESSAGE = pg_catalog.format('Invalid format: "%s"', s);
                END IF;
            END IF;
        END IF;
        zp := GREATEST(pg_catalog.strpos(t, '.'), pg_catalog.strpos(t, ','));
        IF zp > 0 THEN
            f := pg_catalog.substr(t, zp + 1);
            t := pg_catalog.left(t, zp - 1);
        END IF;
        p := pg_catalog.string_to_array(t, ':');
        IF (t = '' AND f IS NOT NULL) OR (t <> '' AND t !~ '^[0-9]{1,2}(:[0-9]{1,2}){0,2}$')
           OR (f IS NOT NULL AND f !~ '^[0-9]+$') OR (t = '' AND d = '') THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = pg_catalog.format('Invalid format: "%s"', s);
        END IF;
        IF t <> '' THEN
            tm := fl_trino._hms(s, p[1]::int, coalesce(p[2]::int, 0), coalesce(p[3]::int, 0))
                + coalesce(fl_trino._fraction_ms(f, CASE pg_catalog.cardinality(p) WHEN 1 THEN 3600000
                                                        WHEN 2 THEN 60000 ELSE 1000 END), 0)
                  * INTERVAL '1 millisecond';
        END IF;
        IF z IS NOT NULL AND z <> 'Z' THEN
            IF pg_catalog.substr(z, 2, 2)::int > 23 THEN
                PERFORM fl_trino._range_error(s, pg_catalog.substr(z, 2, 2)::int, 'hourOfDay', 0, 23);
            END IF;
            IF pg_catalog.length(z) > 3 AND pg_catalog.right(z, 2)::int > 59 THEN
                PERFORM fl_trino._range_error(s, pg_catalog.right(z, 2)::int, 'minuteOfHour', 0, 59);
            END IF;
            off := pg_catalog.make_interval(hours => pg_catalog.substr(z, 2, 2)::int,
                       mins => CASE WHEN pg_catalog.length(z) > 3 THEN pg_catalog.right(z, 2)::int ELSE 0 END);
            IF pg_catalog.substr(z, 1, 1) = '-' THEN
                off := -off;
            END IF;
        END IF;
    END IF;
    RETURN day0 + tm - off;
END $$;

-- from_iso8601_timestamp(string): the instant in UTC, milliseconds
-- truncated; no offset means UTC (the session zone).  The common shapes
-- (yyyy-MM-ddTHH:mm:ss[.fff...] with Z or +-HH:mm, or without a zone, or a
-- date) go to PostgreSQL's own timestamp input, after LIKE tests (far
-- cheaper than a regular expression) that leave out what PostgreSQL
-- accepts and Joda does not (hour 24, second 60); digits in the wrong
-- place make both raise.  Anything else takes the full grammar above.
-- plpgsql, not an inlined SQL body: the tests name s a dozen times, which
-- inlining would turn into a dozen evaluations of a costly argument (such
-- as a json_extract_scalar).  IMMUTABLE: with an explicit offset or none
-- (UTC) the result does not depend on TimeZone or DateStyle.
CREATE FUNCTION fl_trino.from_iso8601_timestamp(s text) RETURNS timestamp
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN CASE
        WHEN s LIKE '____-__-__T__:__:__%' AND s NOT LIKE '___________24%' AND s NOT LIKE '_________________6%'
             AND CASE WHEN s LIKE '%Z'
                      THEN pg_catalog.length(s) = 20
                           OR (s LIKE '___________________.%' AND pg_catalog.length(s) BETWEEN 22 AND 27)
                      WHEN s LIKE '%+__:__' OR s LIKE '%-__:__'
                      THEN pg_catalog.length(s) = 25
                           OR (s LIKE '___________________.%' AND pg_catalog.length(s) BETWEEN 27 AND 32)
                 END
            THEN pg_catalog.date_trunc('milliseconds', pg_catalog.timezone('UTC', s::timestamptz))
        WHEN (s LIKE '____-__-__T__:__:__' AND s NOT LIKE '___________24%' AND s NOT LIKE '_________________6%')
             OR (s LIKE '____-__-__T__:__:__.___' AND s NOT LIKE '___________24%'
                 AND s NOT LIKE '_________________6%' AND s NOT LIKE '%+%' AND s NOT LIKE '%Z'
                 AND s NOT LIKE '____-__-__T__:__:__%-%')
             OR s LIKE '____-__-__'
            THEN pg_catalog.date_trunc('milliseconds', s::timestamp)
        ELSE fl_trino._from_iso8601(s, true)
    END;
END $$;

CREATE FUNCTION fl_trino.from_iso8601_date(s text) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT fl_trino._from_iso8601(s, false)::date $$;

-- to_iso8601: a timestamp (no zone) as Trino prints timestamp(3),
-- 2020-05-11T11:15:05.055 -- no zone suffix, as there is none; a
-- timestamptz in UTC with 'Z' (as Trino prints a UTC timestamp with time
-- zone); a date as 2020-05-11.
CREATE FUNCTION fl_trino.to_iso8601(ts timestamp) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS.MS') $$;

CREATE FUNCTION fl_trino.to_iso8601(ts timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.to_char(pg_catalog.timezone('UTC', ts), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

CREATE FUNCTION fl_trino.to_iso8601(d date) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.to_char(d::timestamp, 'YYYY-MM-DD') $$;

-- ---- JSON ------------------------------------------------------------------------

-- Trino's JSON path subset as a path array for #> / #>>:
--   $  .name (letters, digits, _ and :)  [name]  ["quoted \" \\"]  [0]
-- Each step selects an object member by name or, on an array, the element
-- whose index the step spells -- exactly what #> does with text steps.
CREATE FUNCTION fl_trino._json_path(path text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    steps text[] := '{}';
    n int := pg_catalog.length(path);
    i int := 2;
    c text;
    tok text;
BEGIN
    IF pg_catalog.substr(path, 1, 1) <> '$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = pg_catalog.format('Invalid JSON path: ''%s''', path);
    END IF;
    WHILE i <= n LOOP
        c := pg_catalog.substr(path, i, 1);
        tok := NULL;
        IF c = '.' THEN
            tok := pg_catalog.substring(pg_catalog.substr(path, i + 1), '^[[:alnum:]_:]+');
            i := i + 1 + coalesce(pg_catalog.length(tok), 0);
        ELSIF c = '[' AND pg_catalog.substr(path, i + 1, 1) = '"' THEN
            tok := '';
            i := i + 2;
            LOOP
                c := pg_catalog.substr(path, i, 1);
                EXIT WHEN c = '"' OR c = '';
                IF c = '\' THEN
                    i := i + 1;
                    c := pg_catalog.substr(path, i, 1);
                    IF c NOT IN ('"', '\') THEN
                        tok := NULL;
                        EXIT;
                    END IF;
                END IF;
                tok := tok || c;
                i := i + 1;
            END LOOP;
            IF c <> '"' OR pg_catalog.substr(path, i + 1, 1) <> ']' THEN
                tok := NULL;
            END IF;
            i := i + 2;
        ELSIF c = '[' THEN
            tok := pg_catalog.substring(pg_catalog.substr(path, i + 1), '^[[:alnum:]_]+');
            i := i + 1 + coalesce(pg_catalog.length(tok), 0);
            IF pg_catalog.substr(path, i, 1) <> ']' THEN
                tok := NULL;
            END IF;
            i := i + 1;
        END IF;
        IF tok IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = pg_catalog.format('Invalid JSON path: ''%s''', path);
        END IF;
        steps := steps || tok;
    END LOOP;
    RETURN steps;
END $$;

-- json_extract_scalar(json, path): the value at path when it is a string,
-- number or boolean, as text; NULL for objects, arrays, JSON null and
-- missing values.  From jsonb, numbers come normalized (1e2 -> 100; Trino
-- returns the original text); duplicate keys keep the last value (Trino:
-- the first).
CREATE FUNCTION fl_trino.json_extract_scalar(j jsonb, path text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE pg_catalog.jsonb_typeof(j #> fl_trino._json_path(path))
    WHEN 'object' THEN NULL
    WHEN 'array' THEN NULL
    ELSE j #>> fl_trino._json_path(path)
END $$;

-- JSON as text: malformed JSON gives NULL, as in Trino.  The exception
-- block costs a subtransaction per call (about 3 us).
CREATE FUNCTION fl_trino._json_scalar(j text, path text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    v json;
BEGIN
    v := j::json #> path;
    IF v IS NULL OR pg_catalog.json_typeof(v) IN ('object', 'array') THEN
        RETURN NULL;
    END IF;
    RETURN v #>> '{}';
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    RETURN NULL;
END $$;

CREATE FUNCTION fl_trino.json_extract_scalar(j text, path text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._json_scalar(j, fl_trino._json_path(path)) $$;

-- json_extract(json, path): the JSON value at path (JSON null included),
-- NULL when missing.
CREATE FUNCTION fl_trino.json_extract(j jsonb, path text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT j #> fl_trino._json_path(path) $$;

CREATE FUNCTION fl_trino._json_value(j text, path text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN j::jsonb #> path;
EXCEPTION WHEN data_exception OR program_limit_exceeded THEN
    RETURN NULL;
END $$;

CREATE FUNCTION fl_trino.json_extract(j text, path text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._json_value(j, fl_trino._json_path(path)) $$;

-- json_size(json, path): members of the object or elements of the array
-- at path, 0 for a scalar, NULL when missing.
CREATE FUNCTION fl_trino.json_size(j jsonb, path text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE pg_catalog.jsonb_typeof(j #> fl_trino._json_path(path))
    WHEN 'array' THEN pg_catalog.jsonb_array_length(j #> fl_trino._json_path(path))::bigint
    WHEN 'object' THEN pg_catalog.jsonb_array_length(
        pg_catalog.jsonb_path_query_array(j #> fl_trino._json_path(path), '$.*'))::bigint
    WHEN 'string' THEN 0::bigint
    WHEN 'number' THEN 0::bigint
    WHEN 'boolean' THEN 0::bigint
    WHEN 'null' THEN 0::bigint
END $$;

CREATE FUNCTION fl_trino.json_size(j text, path text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino.json_size(fl_trino._json_value(j, '{}'), path) $$;

CREATE FUNCTION fl_trino.json_array_length(j jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN pg_catalog.jsonb_typeof(j) = 'array' THEN pg_catalog.jsonb_array_length(j)::bigint END $$;

CREATE FUNCTION fl_trino.json_array_length(j text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT fl_trino.json_array_length(fl_trino._json_value(j, '{}')) $$;

-- json_parse raises on malformed JSON (Trino does too).
CREATE FUNCTION fl_trino.json_parse(s text) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT s::jsonb $$;

CREATE FUNCTION fl_trino.json_format(j jsonb) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._json_compact(j) $$;

CREATE FUNCTION fl_trino.is_json_scalar(j jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.jsonb_typeof(j) NOT IN ('object', 'array') $$;

-- ---- arrays and maps -------------------------------------------------------------

-- element_at(array, index): 1-based, negative counts from the end, NULL
-- beyond either end; index 0 is an error.
CREATE FUNCTION fl_trino.element_at(a anyarray, i bigint) RETURNS anyelement
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN i IS NULL THEN NULL
    WHEN i > 0 THEN CASE WHEN i <= 2147483647 THEN a[i] END
    WHEN i < 0 THEN CASE WHEN -i <= pg_catalog.cardinality(a) THEN a[pg_catalog.cardinality(a) + 1 + i] END
    ELSE fl_trino._fail('SQL array indices start at 1', a[1], i)
END $$;

-- element_at(map, key) on a map stored as a jsonb object: the value as
-- text (the common map<string,string>; a complex value comes back as its
-- JSON text).  With a number: a jsonb array's element (1-based, negative
-- from the end) or the object member named by that number.
CREATE FUNCTION fl_trino.element_at(m jsonb, k text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT m ->> k $$;

CREATE FUNCTION fl_trino.element_at(m jsonb, i bigint) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE pg_catalog.jsonb_typeof(m)
    WHEN 'object' THEN m -> i::text
    WHEN 'array' THEN CASE
        WHEN i > 0 THEN CASE WHEN i <= 2147483647 THEN m -> (i - 1)::integer END
        WHEN i < 0 THEN CASE WHEN -i <= pg_catalog.jsonb_array_length(m) THEN m -> i::integer END
        ELSE fl_trino._fail('SQL array indices start at 1', NULL::jsonb, i)
    END
END $$;

CREATE FUNCTION fl_trino.cardinality(a anyarray) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT pg_catalog.cardinality(a)::bigint $$;

CREATE FUNCTION fl_trino.cardinality(j jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE pg_catalog.jsonb_typeof(j)
    WHEN 'array' THEN pg_catalog.jsonb_array_length(j)::bigint
    WHEN 'object' THEN pg_catalog.jsonb_array_length(pg_catalog.jsonb_path_query_array(j, '$.*'))::bigint
END $$;

-- contains(array, element): true when found, NULL when not found but the
-- array has a NULL, else false (= ANY has exactly these semantics).
CREATE FUNCTION fl_trino.contains(a anycompatiblearray, e anycompatible) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT e = ANY (a) $$;

CREATE FUNCTION fl_trino.array_join(a anyarray, delim text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT pg_catalog.array_to_string(a, delim) $$;

CREATE FUNCTION fl_trino.array_join(a anyarray, delim text, null_replacement text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.array_to_string(a, delim, null_replacement) $$;

-- ---- strings -------------------------------------------------------------------------

-- split_part(string, delimiter, index): index >= 1, NULL beyond the last
-- field; an empty delimiter splits into characters.
CREATE FUNCTION fl_trino.split_part(s text, delim text, idx bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN idx < 1 THEN fl_trino._fail('Index must be greater than zero', NULL::text, idx)
    WHEN delim IS NULL OR idx > 2147483647 THEN NULL
    WHEN delim = '' THEN CASE WHEN idx <= pg_catalog.length(s) THEN pg_catalog.substr(s, idx::integer, 1) END
    ELSE coalesce((pg_catalog.string_to_array(s, delim))[idx],
                  CASE WHEN s = '' AND idx = 1 THEN '' END)
END $$;

CREATE FUNCTION fl_trino.split_part(s text, delim text, idx integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino.split_part(s, delim, idx::bigint) $$;

-- split(string, delimiter[, limit]): split('', x) is ['']; with a limit the
-- last element holds the rest of the string.
CREATE FUNCTION fl_trino.split(s text, delim text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN delim = '' THEN fl_trino._fail('The delimiter may not be the empty string', NULL::text[], delim)
            WHEN s = '' THEN ARRAY['']
            ELSE pg_catalog.string_to_array(s, delim) END $$;

CREATE FUNCTION fl_trino.split(s text, delim text, lim bigint) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN lim <= 0 THEN fl_trino._fail('Limit must be positive', NULL::text[], lim)
            WHEN pg_catalog.cardinality(fl_trino.split(s, delim)) <= lim THEN fl_trino.split(s, delim)
            ELSE (fl_trino.split(s, delim))[1 : lim - 1]
                 || pg_catalog.array_to_string((fl_trino.split(s, delim))[lim :], delim) END $$;

-- substr(string, start[, length]): a negative start counts from the end,
-- start 0 gives ''.
CREATE FUNCTION fl_trino.substr(s text, start bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN s IS NULL OR start IS NULL THEN NULL
            WHEN start > 0 THEN pg_catalog.substr(s, LEAST(start, 2147483647)::integer)
            WHEN start < 0 AND -start <= pg_catalog.length(s)
                THEN pg_catalog.substr(s, (pg_catalog.length(s) + 1 + start)::integer)
            ELSE '' END $$;

CREATE FUNCTION fl_trino.substr(s text, start bigint, len bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN s IS NULL OR start IS NULL OR len IS NULL THEN NULL
            WHEN len < 0 THEN fl_trino._fail('Length must be greater than or equal to zero', NULL::text, len)
            WHEN start > 0 THEN pg_catalog.substr(s, LEAST(start, 2147483647)::integer,
                                                  LEAST(len, 2147483647)::integer)
            WHEN start < 0 AND -start <= pg_catalog.length(s)
                THEN pg_catalog.substr(s, (pg_catalog.length(s) + 1 + start)::integer,
                                       LEAST(len, 2147483647)::integer)
            ELSE '' END $$;

CREATE FUNCTION fl_trino.substr(s text, start integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino.substr(s, start::bigint) $$;

CREATE FUNCTION fl_trino.substr(s text, start integer, len integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino.substr(s, start::bigint, len::bigint) $$;

CREATE FUNCTION fl_trino.substring(s text, start bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino.substr(s, start) $$;

CREATE FUNCTION fl_trino.substring(s text, start bigint, len bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino.substr(s, start, len) $$;

CREATE FUNCTION fl_trino.substring(s text, start integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino.substr(s, start::bigint) $$;

CREATE FUNCTION fl_trino.substring(s text, start integer, len integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino.substr(s, start::bigint, len::bigint) $$;

-- concat of strings is NULL when any argument is (PostgreSQL's skips NULLs).
CREATE FUNCTION fl_trino.concat(a text, b text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT a || b $$;
CREATE FUNCTION fl_trino.concat(a text, b text, c text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT a || b || c $$;
CREATE FUNCTION fl_trino.concat(a text, b text, c text, d text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT a || b || c || d $$;
CREATE FUNCTION fl_trino.concat(a text, b text, c text, d text, e text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT a || b || c || d || e $$;
CREATE FUNCTION fl_trino.concat(a text, b text, c text, d text, e text, f text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT a || b || c || d || e || f $$;

CREATE FUNCTION fl_trino.replace(s text, search text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT pg_catalog.replace(s, search, '') $$;

CREATE FUNCTION fl_trino.log2(x double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT pg_catalog.ln(x) / pg_catalog.ln(2::double precision) $$;

-- round(double[, digits]) rounds half away from zero, as Trino (and
-- PostgreSQL's numeric round) do; PostgreSQL's double round is half-even
-- and has no digits form.
CREATE FUNCTION fl_trino.round(x double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.sign(x) * pg_catalog.floor(pg_catalog.abs(x) + 0.5) $$;

CREATE FUNCTION fl_trino.round(x double precision, d integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN x IS NULL OR d IS NULL THEN NULL
            WHEN x = 'NaN' OR x = 'Infinity' OR x = '-Infinity' THEN x
            ELSE pg_catalog.sign(x) * pg_catalog.floor(pg_catalog.abs(x) * 10::double precision ^ d + 0.5)
                 / 10::double precision ^ d END $$;

CREATE FUNCTION fl_trino.truncate(x double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT pg_catalog.trunc(x) $$;

-- if(condition, true_value[, false_value]): a CASE once inlined, so the
-- arm not taken is not evaluated.
CREATE FUNCTION fl_trino."if"(c boolean, t anycompatible) RETURNS anycompatible
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN c THEN t END $$;

CREATE FUNCTION fl_trino."if"(c boolean, t anycompatible, f anycompatible) RETURNS anycompatible
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN c THEN t ELSE f END $$;

-- ---- regular expressions ---------------------------------------------------------

-- Trino's (Java-syntax) pattern as a PostgreSQL ARE: opts is the ARE
-- option prefix, body the pattern, groups the number of capturing groups.
-- Translated: '.' does not match \n (unless (?s)); '$' matches at the end
-- or before a final \n (unless (?m)); \b \B \z \Z \h \v \R \Q..\E \x{..}
-- \0oct \p{Class}; named groups become plain groups; possessive
-- quantifiers and atomic groups become greedy ones (same matches for
-- regexp_like in practice).  Refused (22023): flags or (?flags:...) after
-- the start, nested classes and && in classes, \G \X \k<name>, $ {name}.
-- Other differences: \w \d [[:alpha:]] follow Unicode here (Java: ASCII).
CREATE FUNCTION fl_trino._java_regex_translate(p text, OUT opts text, OUT body text, OUT groups int)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    n int := pg_catalog.length(p);
    i int := 1;
    j int;
    c text;
    nx text;
    m text[];
    cls text;
    in_class boolean := false;
    class_start int;
    dotall boolean := false;
    multiline boolean := false;
    hspace CONSTANT text := ' \t\u00a0\u1680\u180e\u2000-\u200a\u202f\u205f\u3000';
    vspace CONSTANT text := '\n\u000b\f\r\u0085\u2028\u2029';
BEGIN
    opts := '';
    body := '';
    groups := 0;
    LOOP
        m := pg_catalog.regexp_match(pg_catalog.substr(p, i), '^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?\)');
        EXIT WHEN m IS NULL;
        IF m[1] ~ '[^idmsuxU]' OR coalesce(m[2], '') ~ '[^idmsuxU]' THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = pg_catalog.format('Unsupported regular expression flags in ''%s''', p);
        END IF;
        IF pg_catalog.strpos(m[1], 'i') > 0 THEN opts := opts || 'i'; END IF;
        IF pg_catalog.strpos(m[1], 'x') > 0 THEN opts := opts || 'x'; END IF;
        dotall := dotall OR pg_catalog.strpos(m[1], 's') > 0;
        multiline := multiline OR pg_catalog.strpos(m[1], 'm') > 0;
        i := i + 3 + pg_catalog.length(m[1]) + CASE WHEN m[2] IS NULL THEN 0 ELSE 1 + pg_catalog.length(m[2]) END;
    END LOOP;
    IF multiline THEN
        opts := opts || 'w';
    END IF;
    WHILE i <= n LOOP
        c := pg_catalog.substr(p, i, 1);
        IF c = '\' THEN
            nx := pg_catalog.substr(p, i + 1, 1);
            i := i + 2;
            IF nx = '' THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = pg_catalog.format('Invalid regular expression ''%s'': trailing backslash', p);
            ELSIF nx = 'Q' THEN
                j := pg_catalog.strpos(pg_catalog.substr(p, i), '\E');
                body := body || pg_catalog.regexp_replace(
                    CASE WHEN j = 0 THEN pg_catalog.substr(p, i) ELSE pg_catalog.substr(p, i, j - 1) END,
                    '([^[:alnum:]])', '\\\1', 'g');
                i := CASE WHEN j = 0 THEN n + 1 ELSE i + j + 1 END;
            ELSIF nx = 'E' THEN
                NULL;
            ELSIF nx IN ('p', 'P') THEN
                m := pg_catalog.regexp_match(pg_catalog.substr(p, i), '^(?:\{(?:Is)?([A-Za-z_]+)\}|([A-Za-z]))');
                cls := CASE coalesce(m[1], m[2])
                    WHEN 'Lower' THEN 'lower' WHEN 'Ll' THEN 'lower' WHEN 'Lowercase' THEN 'lower'
                    WHEN 'LowerCase' THEN 'lower' WHEN 'javaLowerCase' THEN 'lower'
                    WHEN 'Upper' THEN 'upper' WHEN 'Lu' THEN 'upper' WHEN 'Uppercase' THEN 'upper'
                    WHEN 'UpperCase' THEN 'upper' WHEN 'javaUpperCase' THEN 'upper'
                    WHEN 'Alpha' THEN 'alpha' WHEN 'L' THEN 'alpha' WHEN 'Alphabetic' THEN 'alpha'
                    WHEN 'Letter' THEN 'alpha' WHEN 'javaLetter' THEN 'alpha'
                    WHEN 'Digit' THEN 'digit' WHEN 'N' THEN 'digit' WHEN 'Nd' THEN 'digit'
                    WHEN 'javaDigit' THEN 'digit'
                    WHEN 'Alnum' THEN 'alnum' WHEN 'javaLetterOrDigit' THEN 'alnum'
                    WHEN 'Punct' THEN 'punct' WHEN 'P' THEN 'punct' WHEN 'Punctuation' THEN 'punct'
                    WHEN 'Graph' THEN 'graph' WHEN 'Print' THEN 'print' WHEN 'Blank' THEN 'blank'
                    WHEN 'Cntrl' THEN 'cntrl' WHEN 'Cc' THEN 'cntrl' WHEN 'XDigit' THEN 'xdigit'
                    WHEN 'Space' THEN 'space' WHEN 'White_Space' THEN 'space' WHEN 'javaWhitespace' THEN 'space'
                    WHEN 'ASCII' THEN 'ASCII'
                END;
                IF cls IS NULL OR (in_class AND nx = 'P') THEN
                    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                        MESSAGE = pg_catalog.format('Unsupported character class \%s in ''%s''', nx, p);
                END IF;
                cls := CASE WHEN cls = 'ASCII' THEN '\u0001-\u007f' ELSE '[:' || cls || ':]' END;
                body := body || CASE WHEN in_class THEN cls WHEN nx = 'p' THEN '[' || cls || ']'
                                     ELSE '[^' || cls || ']' END;
                i := i + pg_catalog.length(coalesce('{' || m[1] || '}', m[2]))
                       + CASE WHEN m[1] IS NOT NULL AND pg_catalog.substr(p, i, 3) = '{Is' THEN 2 ELSE 0 END;
            ELSIF nx = 'x' THEN
                m := pg_catalog.regexp_match(pg_catalog.substr(p, i), '^(?:\{([0-9A-Fa-f]{1,8})\}|([0-9A-Fa-f]{2}))');
                IF m IS NULL THEN
                    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                        MESSAGE = pg_catalog.format('Illegal hexadecimal escape sequence in ''%s''', p);
                END IF;
                body := body || CASE WHEN pg_catalog.length(coalesce(m[1], m[2])) <= 4
                                     THEN '\u' || pg_catalog.lpad(coalesce(m[1], m[2]), 4, '0')
                                     ELSE '\U' || pg_catalog.lpad(m[1], 8, '0') END;
                i := i + CASE WHEN m[1] IS NOT NULL THEN pg_catalog.length(m[1]) + 2 ELSE 2 END;
            ELSIF nx = '0' THEN
                m := pg_catalog.regexp_match(pg_catalog.substr(p, i), '^([0-3][0-7]{2}|[0-7]{1,2})');
                IF m IS NULL THEN
                    RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                        MESSAGE = pg_catalog.format('Illegal octal escape sequence in ''%s''', p);
                END IF;
                SELECT '\u' || pg_catalog.lpad(pg_catalog.to_hex(sum((pg_catalog.substr(m[1], k, 1)::int)
                           * (8 ^ (pg_catalog.length(m[1]) - k))::int)), 4, '0')
                INTO cls FROM pg_catalog.generate_series(1, pg_catalog.length(m[1])) AS k;
                body := body || cls;
                i := i + pg_catalog.length(m[1]);
            ELSIF nx IN ('G', 'X', 'k', 'K', 'g', 'N') OR (in_class AND nx IN ('D', 'S', 'W', 'H', 'V', 'R')) THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = pg_catalog.format('Unsupported regular expression escape \%s in ''%s''', nx, p);
            ELSIF nx = 'h' THEN
                body := body || CASE WHEN in_class THEN hspace ELSE '[' || hspace || ']' END;
            ELSIF nx = 'v' THEN
                body := body || CASE WHEN in_class THEN vspace ELSE '[' || vspace || ']' END;
            ELSIF in_class THEN
                body := body || '\' || nx;
            ELSE
                body := body || CASE nx
                    WHEN 'b' THEN '\y' WHEN 'B' THEN '\Y' WHEN 'A' THEN '\A' WHEN 'z' THEN '\Z'
                    WHEN 'Z' THEN '(?=\n?\Z)' WHEN 'H' THEN '[^' || hspace || ']'
                    WHEN 'V' THEN '[^' || vspace || ']'
                    WHEN 'R' THEN '(?:\r\n|[' || vspace || '])'
                    ELSE '\' || nx END;
            END IF;
        ELSIF in_class THEN
            IF c = ']' AND i > class_start THEN
                in_class := false;
            ELSIF c = '[' OR (c = '&' AND pg_catalog.substr(p, i + 1, 1) = '&') THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = pg_catalog.format('Unsupported nested character class in ''%s''', p);
            END IF;
            body := body || c;
            i := i + 1;
        ELSIF c = '[' THEN
            in_class := true;
            body := body || c;
            i := i + 1;
            IF pg_catalog.substr(p, i, 1) = '^' THEN
                body := body || '^';
                i := i + 1;
            END IF;
            class_start := i;
        ELSIF c = '(' THEN
            nx := pg_catalog.substr(p, i + 1, 1);
            IF nx <> '?' THEN
                body := body || '(';
                groups := groups + 1;
                i := i + 1;
            ELSIF pg_catalog.substr(p, i + 2, 1) IN (':', '=', '!') THEN
                body := body || pg_catalog.substr(p, i, 3);
                i := i + 3;
            ELSIF pg_catalog.substr(p, i + 2, 2) IN ('<=', '<!') THEN
                body := body || pg_catalog.substr(p, i, 4);
                i := i + 4;
            ELSIF pg_catalog.substr(p, i + 2, 1) = '>' THEN
                body := body || '(?:';
                i := i + 3;
            ELSIF pg_catalog.substr(p, i + 2, 1) = '<' AND pg_catalog.strpos(pg_catalog.substr(p, i), '>') > 0 THEN
                body := body || '(';
                groups := groups + 1;
                i := i + pg_catalog.strpos(pg_catalog.substr(p, i), '>');
            ELSE
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = pg_catalog.format('Unsupported regular expression group (?%s in ''%s''',
                                                pg_catalog.substr(p, i + 2, 1), p);
            END IF;
        ELSIF c = '{' THEN
            m := pg_catalog.regexp_match(pg_catalog.substr(p, i), '^\{[0-9]+(,[0-9]*)?\}');
            IF m IS NULL THEN
                body := body || '\{';
                i := i + 1;
            ELSE
                j := pg_catalog.strpos(pg_catalog.substr(p, i), '}');
                body := body || pg_catalog.substr(p, i, j);
                i := i + j;
                IF pg_catalog.substr(p, i, 1) = '+' THEN
                    i := i + 1;
                END IF;
            END IF;
        ELSIF c = '}' THEN
            body := body || '\}';
            i := i + 1;
        ELSIF c IN ('*', '+', '?') THEN
            body := body || c;
            i := i + 1;
            IF pg_catalog.substr(p, i, 1) = '+' THEN
                i := i + 1;
            END IF;
        ELSIF c = '.' THEN
            body := body || CASE WHEN dotall THEN '.' ELSE '[^\n]' END;
            i := i + 1;
        ELSIF c = '$' THEN
            body := body || CASE WHEN multiline THEN '$' ELSE '(?=\n?$)' END;
            i := i + 1;
        ELSE
            body := body || c;
            i := i + 1;
        END IF;
    END LOOP;
    IF in_class THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = pg_catalog.format('Unclosed character class in ''%s''', p);
    END IF;
    IF opts <> '' THEN
        opts := '(?' || opts || ')';
    END IF;
END $$;

CREATE FUNCTION fl_trino._java_regex(p text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT (fl_trino._java_regex_translate(p)).opts || (fl_trino._java_regex_translate(p)).body $$;

-- The pattern as group 1, for regexp_extract's group 0.
CREATE FUNCTION fl_trino._java_regex_group0(p text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT (fl_trino._java_regex_translate(p)).opts || '(' || (fl_trino._java_regex_translate(p)).body || ')' $$;

CREATE FUNCTION fl_trino._java_regex_groups(p text) RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT (fl_trino._java_regex_translate(p)).groups $$;

-- A Java replacement string ($n groups, \x escapes) as PostgreSQL's (\n, \&).
CREATE FUNCTION fl_trino._java_replacement(r text, groups int) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    n int := pg_catalog.length(r);
    i int := 1;
    c text;
    g int;
    out text := '';
BEGIN
    WHILE i <= n LOOP
        c := pg_catalog.substr(r, i, 1);
        IF c = '\' THEN
            c := pg_catalog.substr(r, i + 1, 1);
            IF c = '' THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = 'character to be escaped is missing';
            END IF;
            out := out || CASE WHEN c = '\' THEN '\\' ELSE c END;
            i := i + 2;
        ELSIF c = '$' THEN
            c := pg_catalog.substr(r, i + 1, 1);
            IF c !~ '^[0-9]$' THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = 'Illegal group reference';
            END IF;
            g := c::int;
            i := i + 2;
            WHILE pg_catalog.substr(r, i, 1) ~ '^[0-9]$' AND g * 10 + pg_catalog.substr(r, i, 1)::int <= groups LOOP
                g := g * 10 + pg_catalog.substr(r, i, 1)::int;
                i := i + 1;
            END LOOP;
            IF g > groups THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = pg_catalog.format('No group %s', g);
            ELSIF g > 9 THEN
                RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                    MESSAGE = pg_catalog.format('Group references above $9 are not supported: $%s', g);
            END IF;
            out := out || CASE WHEN g = 0 THEN '\&' ELSE '\' || g END;
        ELSE
            out := out || c;
            i := i + 1;
        END IF;
    END LOOP;
    RETURN out;
END $$;

-- regexp_like(string, pattern): whether the pattern matches anywhere.
CREATE FUNCTION fl_trino.regexp_like(s text, p text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT s ~ fl_trino._java_regex(p) $$;

CREATE FUNCTION fl_trino.regexp_extract(s text, p text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT (pg_catalog.regexp_match(s, fl_trino._java_regex_group0(p)))[1] $$;

CREATE FUNCTION fl_trino.regexp_extract(s text, p text, g bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN g < 0 OR g > fl_trino._java_regex_groups(p) THEN
        fl_trino._fail(pg_catalog.format('Pattern has %s groups. Cannot access group %s',
                                         fl_trino._java_regex_groups(p), g), NULL::text, g)
    ELSE (pg_catalog.regexp_match(s, fl_trino._java_regex_group0(p)))[g + 1]
END $$;

CREATE FUNCTION fl_trino.regexp_extract_all(s text, p text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT ARRAY(SELECT m[1] FROM pg_catalog.regexp_matches(s, fl_trino._java_regex_group0(p), 'g') AS m) $$;

CREATE FUNCTION fl_trino.regexp_extract_all(s text, p text, g bigint) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT CASE
    WHEN g < 0 OR g > fl_trino._java_regex_groups(p) THEN
        fl_trino._fail(pg_catalog.format('Pattern has %s groups. Cannot access group %s',
                                         fl_trino._java_regex_groups(p), g), NULL::text[], g)
    ELSE ARRAY(SELECT m[g + 1] FROM pg_catalog.regexp_matches(s, fl_trino._java_regex_group0(p), 'g') AS m)
END $$;

-- regexp_replace replaces every match (PostgreSQL's only the first).
CREATE FUNCTION fl_trino.regexp_replace(s text, p text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.regexp_replace(s, fl_trino._java_regex(p), '', 'g') $$;

CREATE FUNCTION fl_trino.regexp_replace(s text, p text, r text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.regexp_replace(s, fl_trino._java_regex(p),
                                 fl_trino._java_replacement(r, fl_trino._java_regex_groups(p)), 'g') $$;

CREATE FUNCTION fl_trino.regexp_count(s text, p text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.regexp_count(s, fl_trino._java_regex(p))::bigint $$;

CREATE FUNCTION fl_trino.regexp_split(s text, p text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.regexp_split_to_array(s, fl_trino._java_regex(p)) $$;

-- ---- aggregates --------------------------------------------------------------------

-- approx_distinct(x): EXACT -- the number of distinct non-NULL values,
-- which is always within Trino's error bound.  The state is the group's
-- values (array_append appends in place, as array_agg does), counted
-- distinct at the end: as fast as count(DISTINCT x) and, like it, memory
-- proportional to the group's rows.  Types without equality (json) and
-- arrays are not accepted; approx_distinct(x, e) is not provided.
CREATE FUNCTION fl_trino._distinct_count(a anycompatiblearray) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT pg_catalog.count(DISTINCT v) FROM pg_catalog.unnest(a) AS v $$;

CREATE AGGREGATE fl_trino.approx_distinct(anycompatible) (
    SFUNC = pg_catalog.array_append,
    STYPE = anycompatiblearray,
    FINALFUNC = fl_trino._distinct_count,
    COMBINEFUNC = pg_catalog.array_cat,
    PARALLEL = SAFE
);

-- approx_percentile(x, p) and approx_percentile(x, ARRAY[p, ...]): a
-- t-digest with Trino's scale function (compression 100, used as 200 as
-- Trino does: a cluster spans at most one unit of
-- k(q) = normalizer * ln(q / (1 - q)), normalizer = 200 / (4 ln(n / 200) + 24))
-- and Trino's interpolation (airlift TDigest.valuesAt).  While every value
-- is its own centroid -- up to about 40 values -- the result is exactly
-- Trino's: sorted values v[0..n-1] give v[floor(p * n)], the minimum when
-- p * n < 1 and the maximum when p * n >= n - 1 (a nearest-rank
-- percentile).  Beyond, clusters form and values are interpolated, like
-- Trino's (not bit for bit).  NULL x are skipped; p must be in [0, 1];
-- NaN and infinite x raise, as in Trino;
-- bigint/integer/smallint x give bigint (rounded half up), real gives real.
--
-- State (double precision[]): [1] array length at which to compress,
-- [2] k = number of percentiles, [3 .. k+2] the percentiles, [k+3] min,
-- [k+4] max, [k+5] c = number of centroids, then c means, c weights, and
-- the values not compressed yet.  Adding a value appends it in place; every
-- 128 values the centroids and the new values are clustered again (one SQL
-- statement).  About 8 us per row: a PL transition function copies its
-- state at every row, and an aggregate called with two arguments cannot
-- use a built-in one.  (The ordered-set percentile_disc(p) WITHIN GROUP
-- (ORDER BY x), given p + 1e-12 to round ranks the same way, computes the
-- exact nearest-rank answer over 10x faster; only the query rewriter can use
-- it.)
CREATE FUNCTION fl_trino._pct_init(ps double precision[]) RETURNS double precision[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    p double precision;
BEGIN
    FOREACH p IN ARRAY ps LOOP
        IF p IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'Percentile cannot be null';
        ELSIF NOT (p >= 0 AND p <= 1) THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'Percentile must be between 0 and 1';
        END IF;
    END LOOP;
    RETURN ARRAY[pg_catalog.cardinality(ps) + 5 + 128, pg_catalog.cardinality(ps)] || ps
        || ARRAY['Infinity', '-Infinity', 0]::double precision[];
END $$;

-- Clusters the centroids and pending values of s, and those of t (another
-- state, or '{}'), into new centroids; returns the state with no pending
-- values.
CREATE FUNCTION fl_trino._pct_compress(s double precision[], t double precision[]) RETURNS double precision[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    k int := s[2]::int;
    h int := s[2]::int + 5;
    c int := s[s[2]::int + 5]::int;
    means double precision[] := s[h + 1 : h + c];
    weights double precision[] := s[h + c + 1 : h + 2 * c];
    pending double precision[] := s[h + 2 * c + 1 :];
    mn double precision := s[k + 3];
    mx double precision := s[k + 4];
    total double precision;
    nz double precision;
BEGIN
    IF pg_catalog.cardinality(t) > 0 THEN
        h := t[2]::int + 5;
        c := t[h]::int;
        means := means || t[h + 1 : h + c];
        weights := weights || t[h + c + 1 : h + 2 * c];
        pending := pending || t[h + 2 * c + 1 :];
        mn := LEAST(mn, t[t[2]::int + 3]);
        mx := GREATEST(mx, t[t[2]::int + 4]);
    END IF;
    SELECT LEAST(mn, pg_catalog.min(v)), GREATEST(mx, pg_catalog.max(v))
    INTO mn, mx FROM pg_catalog.unnest(pending) AS v;
    IF mn = '-Infinity' OR mx = 'Infinity' OR mx = 'NaN' THEN   -- NaN sorts last
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'approx_percentile: value must be finite';
    END IF;
    total := pg_catalog.cardinality(pending)
        + coalesce((SELECT pg_catalog.sum(w) FROM pg_catalog.unnest(weights) AS w), 0);
    IF total = 0 THEN
        RETURN s[1 : k + 5];
    END IF;
    nz := 200 / (4 * pg_catalog.ln(total / 200) + 24);
    WITH pts AS (
        SELECT u.m, u.w FROM ROWS FROM (pg_catalog.unnest(means), pg_catalog.unnest(weights)) AS u(m, w)
        UNION ALL
        SELECT v, 1 FROM pg_catalog.unnest(pending) AS v
    ), placed AS (
        SELECT m, w, (pg_catalog.sum(w) OVER (ORDER BY m, w ROWS UNBOUNDED PRECEDING) - w / 2) / total AS q
        FROM pts
    ), clusters AS (
        SELECT pg_catalog.floor(nz * pg_catalog.ln(q / (1 - q))) AS b,
               CASE WHEN pg_catalog.min(m) = pg_catalog.max(m) THEN pg_catalog.min(m)
                    ELSE pg_catalog.sum(m * w) / pg_catalog.sum(w) END AS cm,
               pg_catalog.sum(w) AS cw
        FROM placed GROUP BY 1
    )
    SELECT pg_catalog.array_agg(cm ORDER BY b), pg_catalog.array_agg(cw ORDER BY b)
    INTO means, weights FROM clusters;
    c := pg_catalog.cardinality(means);
    RETURN ARRAY[k + 5 + 2 * c + 128, k] || s[3 : k + 2] || ARRAY[mn, mx, c] || means || weights;
END $$;

CREATE FUNCTION fl_trino._pct_combine(a double precision[], b double precision[]) RETURNS double precision[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF a[1] IS NULL THEN
        RETURN b;
    ELSIF b[1] IS NULL THEN
        RETURN a;
    END IF;
    RETURN fl_trino._pct_compress(a, b);
END $$;

-- airlift TDigest.valuesAt for one quantile q over sorted centroids.
CREATE FUNCTION fl_trino._pct_value_at(means double precision[], weights double precision[],
    total double precision, mn double precision, mx double precision, q double precision)
RETURNS double precision LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    c int := pg_catalog.cardinality(means);
    idx double precision := q * total;
    wsf double precision;
    delta double precision;
    off double precision;
    len double precision;
    cur int := 1;
BEGIN
    IF c = 0 THEN
        RETURN NULL;
    ELSIF c = 1 THEN
        RETURN means[1];
    ELSIF idx < 1 THEN
        RETURN mn;
    ELSIF idx < weights[1] / 2 THEN
        RETURN mn + (idx - 1) / (weights[1] / 2 - 1) * (means[1] - mn);
    ELSIF idx <= total - 1 AND total - idx <= weights[c] / 2 AND weights[c] / 2 > 1 THEN
        RETURN mx + (total - idx - 1) / (weights[c] / 2 - 1) * (means[c] - mx);
    ELSIF idx >= total - 1 THEN
        RETURN mx;
    END IF;
    wsf := weights[1] / 2;
    delta := (weights[1] + weights[2]) / 2;
    WHILE cur < c AND wsf + delta <= idx LOOP
        wsf := wsf + delta;
        cur := cur + 1;
        IF cur < c THEN
            delta := (weights[cur] + weights[cur + 1]) / 2;
        END IF;
    END LOOP;
    IF cur = c THEN
        IF idx <= total - 1 AND weights[c] / 2 > 1 THEN
            RETURN mx + (total - idx - 1) / (weights[c] / 2 - 1) * (means[c] - mx);
        END IF;
        RETURN mx;
    ELSIF weights[cur] = 1 AND idx - wsf < weights[cur] / 2 THEN
        RETURN means[cur];
    ELSIF weights[cur + 1] = 1 AND idx - wsf >= weights[cur] / 2 THEN
        RETURN means[cur + 1];
    END IF;
    off := idx - wsf;
    len := delta;
    IF weights[cur] = 1 THEN
        off := off - weights[cur] / 2;
        len := weights[cur + 1] / 2;
    ELSIF weights[cur + 1] = 1 THEN
        len := weights[cur] / 2;
    END IF;
    RETURN means[cur] + off / len * (means[cur + 1] - means[cur]);
END $$;

-- The value at each requested percentile (NULL for an empty group).
CREATE FUNCTION fl_trino._pct_values(s double precision[]) RETURNS double precision[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    k int;
    h int;
    c int;
    total double precision;
    out double precision[] := '{}';
BEGIN
    IF s[1] IS NULL THEN
        RETURN NULL;
    END IF;
    k := s[2]::int;
    IF pg_catalog.cardinality(s) > k + 5 + 2 * s[k + 5]::int THEN
        s := fl_trino._pct_compress(s, '{}');
    END IF;
    h := k + 5;
    c := s[h]::int;
    IF c = 0 THEN
        RETURN NULL;
    END IF;
    SELECT pg_catalog.sum(w) INTO total FROM pg_catalog.unnest(s[h + c + 1 : h + 2 * c]) AS w;
    FOR i IN 1 .. k LOOP
        out := out || fl_trino._pct_value_at(s[h + 1 : h + c], s[h + c + 1 : h + 2 * c], total,
                                             s[k + 3], s[k + 4], s[2 + i]);
    END LOOP;
    RETURN out;
END $$;

CREATE FUNCTION fl_trino._pct_final(s double precision[]) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT (fl_trino._pct_values(s))[1] $$;

CREATE FUNCTION fl_trino._pct_final_real(s double precision[]) RETURNS real
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT (fl_trino._pct_values(s))[1]::real $$;

CREATE FUNCTION fl_trino._pct_final_bigint(s double precision[]) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT pg_catalog.floor((fl_trino._pct_values(s))[1] + 0.5)::bigint $$;

CREATE FUNCTION fl_trino._pct_final_array(s double precision[]) RETURNS double precision[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._pct_values(s) $$;

CREATE FUNCTION fl_trino._pct_final_real_array(s double precision[]) RETURNS real[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT fl_trino._pct_values(s)::real[] $$;

CREATE FUNCTION fl_trino._pct_final_bigint_array(s double precision[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT ARRAY(SELECT pg_catalog.floor(v + 0.5)::bigint
             FROM pg_catalog.unnest(fl_trino._pct_values(s)) WITH ORDINALITY AS u(v, n) ORDER BY n) $$;

-- One transition function per input type (an aggregate's must match
-- exactly), and the aggregates.
DO $$
DECLARE
    t text;
    fin text;
BEGIN
    FOREACH t IN ARRAY ARRAY['double precision', 'real', 'bigint', 'integer', 'smallint'] LOOP
        EXECUTE pg_catalog.format($f$
            CREATE FUNCTION fl_trino._pct_add(s double precision[], x %1$s, p double precision)
            RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $b$
            BEGIN
                IF s[1] IS NULL THEN
                    s := fl_trino._pct_init(ARRAY[p]);
                END IF;
                s := s || x::double precision;
                IF pg_catalog.cardinality(s) >= s[1] THEN
                    s := fl_trino._pct_compress(s, '{}');
                END IF;
                RETURN s;
            END $b$;
            CREATE FUNCTION fl_trino._pct_add(s double precision[], x %1$s, ps double precision[])
            RETURNS double precision[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $b$
            BEGIN
                IF s[1] IS NULL THEN
                    s := fl_trino._pct_init(ps);
                END IF;
                s := s || x::double precision;
                IF pg_catalog.cardinality(s) >= s[1] THEN
                    s := fl_trino._pct_compress(s, '{}');
                END IF;
                RETURN s;
            END $b$;$f$, t);
        fin := CASE t WHEN 'double precision' THEN '' WHEN 'real' THEN '_real' ELSE '_bigint' END;
        EXECUTE pg_catalog.format($f$
            CREATE AGGREGATE fl_trino.approx_percentile(%1$s, double precision) (
                SFUNC = fl_trino._pct_add, STYPE = double precision[], INITCOND = '{}',
                FINALFUNC = fl_trino._pct_final%2$s, COMBINEFUNC = fl_trino._pct_combine,
                PARALLEL = SAFE);
            CREATE AGGREGATE fl_trino.approx_percentile(%1$s, double precision[]) (
                SFUNC = fl_trino._pct_add, STYPE = double precision[], INITCOND = '{}',
                FINALFUNC = fl_trino._pct_final%2$s_array, COMBINEFUNC = fl_trino._pct_combine,
                PARALLEL = SAFE);$f$, t, fin);
    END LOOP;
END $$;

-- count_if(condition): rows where it is true.
CREATE FUNCTION fl_trino._count_if(n bigint, c boolean) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    IF c THEN
        RETURN n + 1;
    END IF;
    RETURN n;
END $$;

CREATE AGGREGATE fl_trino.count_if(boolean) (
    SFUNC = fl_trino._count_if, STYPE = bigint, INITCOND = '0',
    COMBINEFUNC = pg_catalog.int8pl, PARALLEL = SAFE
);

-- arbitrary(x) / any_value(x): some non-NULL value of the group (the
-- first one this process saw).
CREATE FUNCTION fl_trino._first(a anyelement, b anyelement) RETURNS anyelement
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$ BEGIN RETURN a; END $$;

CREATE AGGREGATE fl_trino.arbitrary(anyelement) (
    SFUNC = fl_trino._first, STYPE = anyelement, COMBINEFUNC = fl_trino._first, PARALLEL = SAFE
);
CREATE AGGREGATE fl_trino.any_value(anyelement) (
    SFUNC = fl_trino._first, STYPE = anyelement, COMBINEFUNC = fl_trino._first, PARALLEL = SAFE
);

-- max_by(x, y) / min_by(x, y): x of the row with the greatest / least y
-- (rows with NULL y skipped).  State: jsonb [x as text, y as jsonb]; y
-- compares as jsonb does (numbers numerically, text by collation, dates and
-- timestamps by their ISO text).
CREATE FUNCTION fl_trino._max_by(s jsonb, x anyelement, y anycompatible) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF y IS NOT NULL AND (s IS NULL OR pg_catalog.to_jsonb(y) > s -> 1) THEN
        RETURN pg_catalog.jsonb_build_array(x::text, pg_catalog.to_jsonb(y));
    END IF;
    RETURN s;
END $$;

CREATE FUNCTION fl_trino._min_by(s jsonb, x anyelement, y anycompatible) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF y IS NOT NULL AND (s IS NULL OR pg_catalog.to_jsonb(y) < s -> 1) THEN
        RETURN pg_catalog.jsonb_build_array(x::text, pg_catalog.to_jsonb(y));
    END IF;
    RETURN s;
END $$;

CREATE FUNCTION fl_trino._max_by_combine(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a WHEN b -> 1 > a -> 1 THEN b ELSE a END $$;
CREATE FUNCTION fl_trino._min_by_combine(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a WHEN b -> 1 < a -> 1 THEN b ELSE a END $$;

CREATE FUNCTION fl_trino._by_final(s jsonb, x anyelement, y anycompatible) RETURNS anyelement
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    r ALIAS FOR $0;
BEGIN
    r := s ->> 0;
    RETURN r;
END $$;

CREATE AGGREGATE fl_trino.max_by(anyelement, anycompatible) (
    SFUNC = fl_trino._max_by, STYPE = jsonb, FINALFUNC = fl_trino._by_final, FINALFUNC_EXTRA,
    COMBINEFUNC = fl_trino._max_by_combine, PARALLEL = SAFE
);
CREATE AGGREGATE fl_trino.min_by(anyelement, anycompatible) (
    SFUNC = fl_trino._min_by, STYPE = jsonb, FINALFUNC = fl_trino._by_final, FINALFUNC_EXTRA,
    COMBINEFUNC = fl_trino._min_by_combine, PARALLEL = SAFE
);

-- ---- TRY_CAST: fl_try_cast_<type>(x) ------------------------------------------------
--
-- NULL wherever Trino's CAST fails.  Text is read as Trino reads it:
-- numbers after Java's trim() (Long.parseLong, Double.parseDouble: no
-- thousands separators, 'NaN' and 'Infinity' spelled so, overflow to
-- Infinity), booleans as t/f/1/0/true/false in any case and untrimmed,
-- dates as yyyy-M-d, timestamps as yyyy-M-d[ H:m[:s[.fff]]][ zone] (no 'T';
-- a zone is ignored, fractions rounded to milliseconds).  Numbers to
-- integers round half away from zero.  The common text shapes take an
-- inlined fast path; no exception block is entered except for types with
-- no dedicated overload (anyelement).

CREATE FUNCTION fl_trino._numeric_between(n numeric, lo numeric, hi numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE WHEN n >= lo AND n <= hi THEN n END $$;

-- Java's HALF_UP rounding of a double, NULL outside [lo, hi] or for NaN.
CREATE FUNCTION fl_trino._double_to_int(x double precision, lo double precision, hi double precision) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN x >= lo - 0.5 AND x < hi + 0.5 AND x <> 'NaN' THEN
    CASE WHEN x >= 0 THEN pg_catalog.floor(x) + CASE WHEN x - pg_catalog.floor(x) >= 0.5 THEN 1 ELSE 0 END
         ELSE pg_catalog.ceil(x) - CASE WHEN pg_catalog.ceil(x) - x >= 0.5 THEN 1 ELSE 0 END END::bigint
END $$;

-- Whether s is [+-]digits with at most n digits: cheaper than a regular
-- expression (PostgreSQL's cost about 1 us a call).
CREATE FUNCTION fl_trino._is_plain_int(s text, n int) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT pg_catalog.length(s) BETWEEN 1 AND n
       AND pg_catalog.ltrim(pg_catalog.substr(s, 2), '0123456789') = ''
       AND (pg_catalog.strpos('0123456789', pg_catalog.substr(s, 1, 1)) > 0
            OR (pg_catalog.length(s) > 1 AND pg_catalog.substr(s, 1, 1) IN ('+', '-'))) $$;

-- Integers from text: fast path for what int8in reads exactly like
-- Long.parseLong(trim), exact range check otherwise.
CREATE FUNCTION fl_trino._text_to_int(s text, lo numeric, hi numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN s ~ '^[\u0001-\u0020]*[-+]?[0-9]+[\u0001-\u0020]*$'
    THEN fl_trino._numeric_between(fl_trino._java_trim(s)::numeric, lo, hi) END $$;

CREATE FUNCTION fl_trino.fl_try_cast_bigint(s text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN fl_trino._is_plain_int(s, 18) THEN s::bigint
            ELSE fl_trino._text_to_int(s, -9223372036854775808, 9223372036854775807)::bigint END $$;

CREATE FUNCTION fl_trino.fl_try_cast_integer(s text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN fl_trino._is_plain_int(s, 9) THEN s::integer
            ELSE fl_trino._text_to_int(s, -2147483648, 2147483647)::integer END $$;

CREATE FUNCTION fl_trino.fl_try_cast_smallint(s text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN fl_trino._is_plain_int(s, 4) THEN s::smallint
            ELSE fl_trino._text_to_int(s, -32768, 32767)::smallint END $$;

-- tinyint has no PostgreSQL type: a smallint in tinyint's range.
CREATE FUNCTION fl_trino.fl_try_cast_tinyint(s text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._text_to_int(s, -128, 127)::smallint $$;

-- A decimal string as Double.parseDouble reads it: overflow is Infinity,
-- underflow 0, never an error.
CREATE FUNCTION fl_trino._numeric_to_double(n numeric) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN n = 'NaN' THEN 'NaN'::double precision
    WHEN pg_catalog.abs(n) >= (2::numeric ^ 1024 - 2::numeric ^ 970)
        THEN CASE WHEN n > 0 THEN 'Infinity'::double precision ELSE '-Infinity'::double precision END
    WHEN pg_catalog.abs(n) <= 2.4703282292062328e-324 THEN 0::double precision
    ELSE n::double precision
END $$;

CREATE FUNCTION fl_trino._text_to_double(s text) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    t text := fl_trino._java_trim(s);
    m text[];
BEGIN
    IF t ~ '^[-+]?(NaN|Infinity)$' THEN
        RETURN CASE WHEN t ~ '^-' THEN '-' ELSE '' END || pg_catalog.ltrim(t, '-+');
    END IF;
    m := pg_catalog.regexp_match(t, '^([-+]?)([0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE]([-+]?[0-9]+))?[dDfF]?$');
    IF m IS NULL THEN
        RETURN NULL;   -- including Java's hexadecimal floating-point literals
    ELSIF m[2] !~ '[1-9]' THEN
        RETURN CASE WHEN m[1] = '-' THEN '-0'::double precision ELSE 0::double precision END;
    ELSIF pg_catalog.length(pg_catalog.ltrim(coalesce(m[3], '0'), '-+0')) > 6 THEN
        RETURN CASE WHEN m[3] ~ '^-' THEN 0::double precision
                    WHEN m[1] = '-' THEN '-Infinity'::double precision
                    ELSE 'Infinity'::double precision END;
    END IF;
    -- numeric reads exponents up to 1000 digits away; scale first.
    RETURN fl_trino._numeric_to_double(
        (m[1] || m[2])::numeric * 10::numeric ^ coalesce(m[3], '0')::int);
END $$;

CREATE FUNCTION fl_trino.fl_try_cast_double(s text) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN pg_catalog.length(s) < 300
                 AND pg_catalog.rtrim(pg_catalog.replace(s, '.', ''), '0123456789') IN ('', '+', '-')
                 AND pg_catalog.length(s) - pg_catalog.length(pg_catalog.replace(s, '.', '')) <= 1
                 AND pg_catalog.length(pg_catalog.replace(s, '.', '')) > pg_catalog.length(
                     pg_catalog.rtrim(pg_catalog.replace(s, '.', ''), '0123456789'))
            THEN s::double precision         -- [+-]digits[.digits], at least one digit
            ELSE fl_trino._text_to_double(s) END $$;

-- A double as a real, Java's way: overflow is Infinity, underflow 0.
CREATE FUNCTION fl_trino._double_to_real(d double precision) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE
    WHEN d = 'NaN' THEN 'NaN'::real
    WHEN d >= 3.4028235677973366e38 THEN 'Infinity'::real
    WHEN d <= -3.4028235677973366e38 THEN '-Infinity'::real
    WHEN pg_catalog.abs(d) <= 7.006492321624085e-46 THEN 0::real
    ELSE d::real
END $$;

CREATE FUNCTION fl_trino.fl_try_cast_real(s text) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._double_to_real(fl_trino.fl_try_cast_double(s)) $$;

CREATE FUNCTION fl_trino.fl_try_cast_boolean(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE pg_catalog.lower(s)
    WHEN 'true' THEN true WHEN 't' THEN true WHEN '1' THEN true
    WHEN 'false' THEN false WHEN 'f' THEN false WHEN '0' THEN false
END $$;

CREATE FUNCTION fl_trino._try_ymd(y int, m int, d int) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN m >= 1 AND m <= 12 AND d >= 1 AND d <= fl_trino._days_in_month(y, m)
                 AND y >= -4712 AND y <= 5874897
            THEN pg_catalog.make_date(CASE WHEN y <= 0 THEN y - 1 ELSE y END, m, d) END $$;

CREATE FUNCTION fl_trino._text_to_date(s text) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    m text[] := pg_catalog.regexp_match(s,
        '^[\u0001-\u0020]*([-+]?[0-9]{1,9})-([0-9]{1,2})-([0-9]{1,2})[\u0001-\u0020]*$');
BEGIN
    RETURN fl_trino._try_ymd(m[1]::int, m[2]::int, m[3]::int);
END $$;

CREATE FUNCTION fl_trino.fl_try_cast_date(s text) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN s ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
    THEN fl_trino._try_ymd(pg_catalog.substr(s, 1, 4)::int, pg_catalog.substr(s, 6, 2)::int,
                           pg_catalog.substr(s, 9, 2)::int)
    ELSE fl_trino._text_to_date(s) END $$;

CREATE FUNCTION fl_trino._text_to_timestamp(s text) RETURNS timestamp
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    m text[] := pg_catalog.regexp_match(fl_trino._java_trim(s),
        '^([-+]?[0-9]{4,})-([0-9]{1,2})-([0-9]{1,2})'
        '(?: (?:([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2})(?:\.([0-9]+))?)?)?[[:space:]]*(.+)?)?$');
    d date;
BEGIN
    IF m IS NULL OR pg_catalog.length(pg_catalog.ltrim(m[1], '-+')) > 6
       OR coalesce(m[4]::int, 0) > 23 OR coalesce(m[5]::int, 0) > 59 OR coalesce(m[6]::int, 0) > 59 THEN
        RETURN NULL;
    END IF;
    d := fl_trino._try_ymd(m[1]::int, m[2]::int, m[3]::int);
    IF d IS NULL OR m[1]::int > 294275 OR m[1]::int < -4712 THEN
        RETURN NULL;
    END IF;
    RETURN d + pg_catalog.make_interval(hours => coalesce(m[4]::int, 0), mins => coalesce(m[5]::int, 0),
                                        secs => coalesce(m[6]::int, 0))
             + coalesce(pg_catalog.round(('0.' || m[7])::numeric, 3), 0) * INTERVAL '1 second';
END $$;

CREATE FUNCTION fl_trino.fl_try_cast_timestamp(s text) RETURNS timestamp
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._text_to_timestamp(s) $$;

-- decimal(p, s): rounded half up to s digits, NULL when more than p - s
-- integer digits remain; without (p, s) the value is kept as written.
CREATE FUNCTION fl_trino._text_to_numeric(s text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN fl_trino._java_trim(s) ~ '^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,3})?$'
            THEN fl_trino._java_trim(s)::numeric END $$;

CREATE FUNCTION fl_trino._numeric_fit(n numeric, p int, s int) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN p >= 1 AND p <= 1000 AND s >= 0 AND s <= p
                 AND pg_catalog.abs(pg_catalog.round(n, s)) < 10::numeric ^ (p - s)
            THEN pg_catalog.round(n, s) END $$;

CREATE FUNCTION fl_trino.fl_try_cast_numeric(s text) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._text_to_numeric(s) $$;

CREATE FUNCTION fl_trino.fl_try_cast_numeric(s text, p integer, sc integer) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._numeric_fit(fl_trino._text_to_numeric(s), p, sc) $$;

CREATE FUNCTION fl_trino.fl_try_cast_text(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT s $$;

CREATE FUNCTION fl_trino.fl_try_cast_jsonb(s text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._json_value(s, '{}') $$;

CREATE FUNCTION fl_trino.fl_try_cast_json(s text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._json_value(s, '{}') $$;

-- From numbers.
CREATE FUNCTION fl_trino.fl_try_cast_bigint(x double precision) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._double_to_int(x, -9223372036854775808, 9223372036854775807) $$;
CREATE FUNCTION fl_trino.fl_try_cast_integer(x double precision) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._double_to_int(x, -2147483648, 2147483647)::integer $$;
CREATE FUNCTION fl_trino.fl_try_cast_smallint(x double precision) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._double_to_int(x, -32768, 32767)::smallint $$;
CREATE FUNCTION fl_trino.fl_try_cast_tinyint(x double precision) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._double_to_int(x, -128, 127)::smallint $$;

CREATE FUNCTION fl_trino.fl_try_cast_bigint(x numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._numeric_between(pg_catalog.round(x), -9223372036854775808, 9223372036854775807)::bigint $$;
CREATE FUNCTION fl_trino.fl_try_cast_integer(x numeric) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._numeric_between(pg_catalog.round(x), -2147483648, 2147483647)::integer $$;
CREATE FUNCTION fl_trino.fl_try_cast_smallint(x numeric) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._numeric_between(pg_catalog.round(x), -32768, 32767)::smallint $$;
CREATE FUNCTION fl_trino.fl_try_cast_tinyint(x numeric) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._numeric_between(pg_catalog.round(x), -128, 127)::smallint $$;

CREATE FUNCTION fl_trino.fl_try_cast_bigint(x bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x $$;
CREATE FUNCTION fl_trino.fl_try_cast_integer(x bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN x >= -2147483648 AND x <= 2147483647 THEN x::integer END $$;
CREATE FUNCTION fl_trino.fl_try_cast_smallint(x bigint) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN x >= -32768 AND x <= 32767 THEN x::smallint END $$;
CREATE FUNCTION fl_trino.fl_try_cast_tinyint(x bigint) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN x >= -128 AND x <= 127 THEN x::smallint END $$;

CREATE FUNCTION fl_trino.fl_try_cast_bigint(x boolean) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::integer::bigint $$;
CREATE FUNCTION fl_trino.fl_try_cast_integer(x boolean) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::integer $$;
CREATE FUNCTION fl_trino.fl_try_cast_smallint(x boolean) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::integer::smallint $$;
CREATE FUNCTION fl_trino.fl_try_cast_tinyint(x boolean) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::integer::smallint $$;

CREATE FUNCTION fl_trino.fl_try_cast_double(x numeric) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._numeric_to_double(x) $$;
CREATE FUNCTION fl_trino.fl_try_cast_double(x double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x $$;
CREATE FUNCTION fl_trino.fl_try_cast_double(x bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::double precision $$;
CREATE FUNCTION fl_trino.fl_try_cast_double(x boolean) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::integer::double precision $$;

CREATE FUNCTION fl_trino.fl_try_cast_real(x double precision) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._double_to_real(x) $$;
CREATE FUNCTION fl_trino.fl_try_cast_real(x numeric) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._double_to_real(fl_trino._numeric_to_double(x)) $$;
CREATE FUNCTION fl_trino.fl_try_cast_real(x bigint) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::real $$;
CREATE FUNCTION fl_trino.fl_try_cast_real(x boolean) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::integer::real $$;

CREATE FUNCTION fl_trino.fl_try_cast_boolean(x double precision) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x <> 0 $$;
CREATE FUNCTION fl_trino.fl_try_cast_boolean(x numeric) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x <> 0 $$;
CREATE FUNCTION fl_trino.fl_try_cast_boolean(x bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x <> 0 $$;
CREATE FUNCTION fl_trino.fl_try_cast_boolean(x boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x $$;

CREATE FUNCTION fl_trino.fl_try_cast_numeric(x double precision) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN x > '-Infinity' AND x < 'Infinity' THEN x::text::numeric END $$;
CREATE FUNCTION fl_trino.fl_try_cast_numeric(x double precision, p integer, sc integer) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT fl_trino._numeric_fit(fl_trino.fl_try_cast_numeric(x), p, sc) $$;
CREATE FUNCTION fl_trino.fl_try_cast_numeric(x numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x $$;
CREATE FUNCTION fl_trino.fl_try_cast_numeric(x numeric, p integer, sc integer) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._numeric_fit(x, p, sc) $$;
CREATE FUNCTION fl_trino.fl_try_cast_numeric(x bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::numeric $$;
CREATE FUNCTION fl_trino.fl_try_cast_numeric(x boolean) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::integer::numeric $$;
CREATE FUNCTION fl_trino.fl_try_cast_numeric(x bigint, p integer, sc integer) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._numeric_fit(x::numeric, p, sc) $$;

-- From dates and timestamps.
CREATE FUNCTION fl_trino.fl_try_cast_date(x timestamp) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::date $$;
CREATE FUNCTION fl_trino.fl_try_cast_date(x timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT pg_catalog.timezone('UTC', x)::date $$;
CREATE FUNCTION fl_trino.fl_try_cast_date(x date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x $$;
CREATE FUNCTION fl_trino.fl_try_cast_timestamp(x date) RETURNS timestamp
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::timestamp $$;
CREATE FUNCTION fl_trino.fl_try_cast_timestamp(x timestamptz) RETURNS timestamp
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT pg_catalog.timezone('UTC', x) $$;
CREATE FUNCTION fl_trino.fl_try_cast_timestamp(x timestamp) RETURNS timestamp
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x $$;

-- To varchar, as Trino prints: doubles as Java does (1.0E10, 100.0),
-- timestamps with milliseconds; JSON: scalars only (a string unquoted).
CREATE FUNCTION fl_trino.fl_try_cast_text(x double precision) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._java_number_text(x::text) $$;
CREATE FUNCTION fl_trino.fl_try_cast_text(x real) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._java_number_text(x::text) $$;
CREATE FUNCTION fl_trino.fl_try_cast_text(x timestamp) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT pg_catalog.to_char(x, 'YYYY-MM-DD HH24:MI:SS.MS') $$;
CREATE FUNCTION fl_trino.fl_try_cast_text(x timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT pg_catalog.to_char(pg_catalog.timezone('UTC', x), 'YYYY-MM-DD HH24:MI:SS.MS "UTC"') $$;
CREATE FUNCTION fl_trino.fl_try_cast_text(x date) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT pg_catalog.to_char(x::timestamp, 'YYYY-MM-DD') $$;
CREATE FUNCTION fl_trino.fl_try_cast_text(x bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::text $$;
CREATE FUNCTION fl_trino.fl_try_cast_text(x integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::text $$;
CREATE FUNCTION fl_trino.fl_try_cast_text(x smallint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::text $$;
CREATE FUNCTION fl_trino.fl_try_cast_text(x numeric) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::text $$;
CREATE FUNCTION fl_trino.fl_try_cast_text(x boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT x::text $$;
CREATE FUNCTION fl_trino.fl_try_cast_text(x jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN pg_catalog.jsonb_typeof(x) NOT IN ('object', 'array') THEN x #>> '{}' END $$;

-- From JSON: a JSON number, string or boolean cast as Trino casts it.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['bigint', 'integer', 'smallint', 'tinyint', 'double', 'real', 'boolean',
                             'numeric', 'date', 'timestamp'] LOOP
        EXECUTE pg_catalog.format($f$
            CREATE FUNCTION fl_trino.fl_try_cast_%1$s(x jsonb) RETURNS %2$s
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $b$
            SELECT CASE pg_catalog.jsonb_typeof(x)
                WHEN 'string' THEN fl_trino.fl_try_cast_%1$s(x #>> '{}')
                %3$s
            END $b$ $f$, t,
            CASE t WHEN 'double' THEN 'double precision' WHEN 'tinyint' THEN 'smallint' ELSE t END,
            CASE WHEN t IN ('date', 'timestamp') THEN '' ELSE pg_catalog.format(
                $g$WHEN 'number' THEN fl_trino.fl_try_cast_%1$s((x #>> '{}')::numeric)
                   WHEN 'boolean' THEN fl_trino.fl_try_cast_%1$s((x #>> '{}')::boolean)$g$, t) END);
    END LOOP;
END $$;

-- Any other type: the PostgreSQL cast, NULL when it fails.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['bigint', 'integer', 'smallint', 'double', 'real', 'boolean', 'numeric',
                             'date', 'timestamp', 'text'] LOOP
        EXECUTE pg_catalog.format($f$
            CREATE FUNCTION fl_trino.fl_try_cast_%1$s(x anyelement) RETURNS %2$s
            LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $b$
            BEGIN
                RETURN x::%2$s;
            EXCEPTION WHEN data_exception OR feature_not_supported OR undefined_function
                      OR datatype_mismatch OR cannot_coerce THEN
                RETURN NULL;
            END $b$ $f$, t, CASE t WHEN 'double' THEN 'double precision' ELSE t END);
    END LOOP;
END $$;

CREATE FUNCTION fl_trino.fl_try_cast_numeric(x anyelement, p integer, sc integer) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT fl_trino._numeric_fit(fl_trino.fl_try_cast_numeric(x), p, sc) $$;

-- ---- grants ----------------------------------------------------------------------------

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA fl_trino TO PUBLIC;
