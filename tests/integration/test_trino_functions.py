"""The Trino functions of sql/0003_trino.sql (schema fl_trino), in the
PostgreSQL cluster of a real firelake, as the query role sees them.

firelake applies the migration to its embedded PostgreSQL at start; the
tests then talk to that cluster with psql over its unix socket (superuser
"firelake", database "firelake"), switch to an unprivileged role whose
search_path is "fl_trino, pg_catalog" (as the query engine's), and check:

  - a table of (SQL expression, text Trino prints for it), every function
    with NULLs, edge cases and errors; values are rendered as Athena prints
    them (fl_trino._athena_text: timestamps with milliseconds, doubles as
    Java prints them, arrays as [a, b], JSON compact);  Trino's timestamp
    with time zone results (from_unixtime, from_iso8601_timestamp) are UTC
    timestamps here and print without the " UTC" suffix;
  - each fl_try_cast_<type> on good and bad input;
  - catalog facts: PARALLEL SAFE everywhere, no SECURITY DEFINER, the
    volatility of the hot functions, combine functions on aggregates,
    EXECUTE for an unprivileged role;
  - that the hot functions are inlined and fold their constant arguments
    (EXPLAIN), and that aggregates run in parallel with the same results;
  - approx_percentile against Trino's t-digest answer for small inputs.

Expected texts are Trino's (Athena engine v3) unless a comment says why
not; run it with `meson test test_trino_functions`.
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

ERR = "ERROR: "

# (expression, expected text); expected "NULL" is SQL NULL, ERR + text an
# error whose message contains text.
CASES = [
    # ---- from_unixtime / to_unixtime
    ("from_unixtime(0)", "1970-01-01 00:00:00.000"),
    ("from_unixtime(1589196905)", "2020-05-11 11:35:05.000"),
    ("from_unixtime(1.5)", "1970-01-01 00:00:01.500"),
    ("from_unixtime(-1.25)", "1969-12-31 23:59:58.750"),
    ("from_unixtime(1589196905.1234)", "2020-05-11 11:35:05.123"),
    ("from_unixtime(NULL::double precision)", "NULL"),
    ("to_unixtime(TIMESTAMP '2020-05-11 11:35:05.500')", "1.5891969055E9"),
    ("to_unixtime(from_unixtime(1589196905))", "1.589196905E9"),
    ("to_unixtime(TIMESTAMP '1970-01-01 00:00:00')", "0.0"),
    ("to_unixtime(NULL::timestamp)", "NULL"),
    # ---- from_iso8601_timestamp / from_iso8601_date / to_iso8601
    ("from_iso8601_timestamp('2020-05-11T11:15:05Z')", "2020-05-11 11:15:05.000"),
    ("from_iso8601_timestamp('2020-05-11T11:15:05.055+09:00')", "2020-05-11 02:15:05.055"),
    ("from_iso8601_timestamp('2020-05-11T11:15:05.055-05:30')", "2020-05-11 16:45:05.055"),
    ("from_iso8601_timestamp('2020-05-11T11:15:05.1239Z')", "2020-05-11 11:15:05.123"),
    ("from_iso8601_timestamp('2020-05-11T11:15:05+0530')", "2020-05-11 05:45:05.000"),
    ("from_iso8601_timestamp('2020-05-11T23:30:00-01')", "2020-05-12 00:30:00.000"),
    ("from_iso8601_timestamp('2020-05-11T11:15:05')", "2020-05-11 11:15:05.000"),
    ("from_iso8601_timestamp('2020-05-11T11:15')", "2020-05-11 11:15:00.000"),
    ("from_iso8601_timestamp('2020-05-11T11,5Z')", "2020-05-11 11:30:00.000"),
    ("from_iso8601_timestamp('2020-05-11')", "2020-05-11 00:00:00.000"),
    ("from_iso8601_timestamp('2020-05')", "2020-05-01 00:00:00.000"),
    ("from_iso8601_timestamp('2020-132')", "2020-05-11 00:00:00.000"),
    ("from_iso8601_timestamp('2020-W20-1T10:00Z')", "2020-05-11 10:00:00.000"),
    ("from_iso8601_timestamp('T10:30')", "1970-01-01 10:30:00.000"),
    ("from_iso8601_timestamp(NULL)", "NULL"),
    ("from_iso8601_timestamp('2020-05-11 11:15:05')", ERR + 'Invalid format: "2020-05-11 11:15:05"'),
    ("from_iso8601_timestamp('2020-05-11T24:00:00Z')",
     ERR + 'Cannot parse "2020-05-11T24:00:00Z": Value 24 for hourOfDay must be in the range [0,23]'),
    ("from_iso8601_timestamp('2020-05-11T10:00:60Z')",
     ERR + 'Value 60 for secondOfMinute must be in the range [0,59]'),
    ("from_iso8601_timestamp('2021-02-29T00:00')",
     ERR + 'Value 29 for dayOfMonth must be in the range [1,28]'),
    ("from_iso8601_timestamp('yesterday')", ERR + 'Invalid format: "yesterday"'),
    ("from_iso8601_date('2020-05-11')", "2020-05-11"),
    ("from_iso8601_date('2020-W10-1')", "2020-03-02"),
    ("from_iso8601_date('2020-05-11T10:00')", ERR + "Invalid format"),
    ("to_iso8601(TIMESTAMP '2020-05-11 11:15:05.055')", "2020-05-11T11:15:05.055"),
    ("to_iso8601(TIMESTAMP '2020-05-11 11:15:05')", "2020-05-11T11:15:05.000"),
    ("to_iso8601(DATE '2020-05-11')", "2020-05-11"),
    ("to_iso8601(TIMESTAMP WITH TIME ZONE '2020-05-11 11:15:05.055+02')", "2020-05-11T09:15:05.055Z"),
    ("to_iso8601(NULL::timestamp)", "NULL"),
    # ---- date_parse / date_format (MySQL specifiers)
    ("date_parse('2020-05-11 11:15:05', '%Y-%m-%d %H:%i:%s')", "2020-05-11 11:15:05.000"),
    ("date_parse('11/05/2020 3:04 PM', '%d/%m/%Y %l:%i %p')", "2020-05-11 15:04:00.000"),
    ("date_parse('11/05/2020 12:04 am', '%d/%m/%Y %h:%i %p')", "2020-05-11 00:04:00.000"),
    ("date_parse('2020-05-11 11:15:05.123456', '%Y-%m-%d %H:%i:%s.%f')", "2020-05-11 11:15:05.123"),
    ("date_parse('May 11, 2020', '%M %e, %Y')", "2020-05-11 00:00:00.000"),
    ("date_parse('11-sep-20', '%d-%b-%y')", "2020-09-11 00:00:00.000"),
    ("date_parse('11-sep-70', '%d-%b-%y')", "1970-09-11 00:00:00.000"),
    ("date_parse('20200511', '%Y%m%d')", "2020-05-11 00:00:00.000"),
    ("date_parse('2020 132', '%Y %j')", "2020-05-11 00:00:00.000"),
    ("date_parse('10:30', '%H:%i')", "1970-01-01 10:30:00.000"),
    ("date_parse('15:04:05', '%T')", "1970-01-01 15:04:05.000"),
    ("date_parse(NULL, '%Y')", "NULL"),
    ("date_parse('2020-13-01', '%Y-%m-%d')",
     ERR + 'Cannot parse "2020-13-01": Value 13 for monthOfYear must be in the range [1,12]'),
    ("date_parse('2021-02-29', '%Y-%m-%d')", ERR + "Value 29 for dayOfMonth must be in the range [1,28]"),
    ("date_parse('2020-05-11x', '%Y-%m-%d')", ERR + 'Invalid format: "2020-05-11x"'),
    ("date_parse('2020-05-11', '%Y-%m-%d %H')", ERR + 'Invalid format: "2020-05-11"'),
    ("date_parse('2020', '%U')", ERR + "%U not supported in date format string"),
    ("date_format(TIMESTAMP '2020-05-11 15:04:05.123', '%Y-%m-%d %H:%i:%s')", "2020-05-11 15:04:05"),
    ("date_format(TIMESTAMP '2020-05-11 15:04:05.123', '%a %b %e %c %y %k %l %p %j %W %M')",
     "Mon May 11 5 20 15 3 PM 132 Monday May"),
    ("date_format(TIMESTAMP '2020-05-11 15:04:05.123', '%T|%r|%f|%S|%I|%h|%d|%m|%%')",
     "15:04:05|03:04:05 PM|123000|05|03|03|11|05|%"),
    ("date_format(TIMESTAMP '2020-05-11 15:04:05', '%x-W%v')", "2020-W20"),
    ("date_format(TIMESTAMP '2021-01-03 00:00:00', '%x-W%v %Y')", "2020-W53 2021"),
    ("date_format(TIMESTAMP '2020-05-11 15:04:05', 'day %d \"%Q\" \\ 100%')", "day 11 \"Q\" \\ 100"),
    ("date_format(TIMESTAMP '2020-05-11 15:04:05', '%Y%m%d%H%j')", "202005111513" + "2"),
    ("date_format(DATE '2020-05-11', '%Y/%m/%d %H')", "2020/05/11 00"),
    ("date_format(TIMESTAMP WITH TIME ZONE '2020-05-11 01:00:00+02', '%Y-%m-%d %H')", "2020-05-10 23"),
    ("date_format(NULL::timestamp, '%Y')", "NULL"),
    ("date_format(TIMESTAMP '2020-05-11 15:04:05', '%D')", ERR + "%D not supported in date format string"),
    ("date_format(TIMESTAMP '2020-05-11 15:04:05', '%w')", ERR + "%w not supported in date format string"),
    # ---- format_datetime / parse_datetime (Joda patterns)
    ("format_datetime(TIMESTAMP '2020-05-11 15:04:05.123', 'yyyy-MM-dd''T''HH:mm:ss.SSSZZ')",
     "2020-05-11T15:04:05.123+00:00"),
    ("format_datetime(TIMESTAMP '2020-05-11 15:04:05.123', 'EEE, d MMM yyyy h:mm a')",
     "Mon, 11 May 2020 3:04 PM"),
    ("format_datetime(TIMESTAMP '2020-05-11 15:04:05.123', 'EEEE MMMM D ''''''at'''''' ww')",
     "Monday May 132 'at' 20"),
    ("format_datetime(TIMESTAMP '2020-05-11 15:04:05', 'yyyy qq')", ERR + "Illegal pattern component: qq"),
    ("parse_datetime('2020-05-11T15:04:05.123+02:00', 'yyyy-MM-dd''T''HH:mm:ss.SSSZZ')",
     "2020-05-11 13:04:05.123"),
    ("parse_datetime('11/May/2020:15:04:05 +0000', 'dd/MMM/yyyy:HH:mm:ss Z')", "2020-05-11 15:04:05.000"),
    ("parse_datetime('2020-05-11', 'yyyy/MM/dd')", ERR + 'Invalid format: "2020-05-11"'),
    # ---- date_add
    ("date_add('month', 1, TIMESTAMP '2020-01-31 10:00:00')", "2020-02-29 10:00:00.000"),
    ("date_add('month', 1, TIMESTAMP '2021-01-31 10:00:00')", "2021-02-28 10:00:00.000"),
    ("date_add('month', -1, DATE '2020-03-31')", "2020-02-29"),
    ("date_add('year', 1, DATE '2020-02-29')", "2021-02-28"),
    ("date_add('quarter', 1, TIMESTAMP '2020-11-30 00:00:00')", "2021-02-28 00:00:00.000"),
    ("date_add('day', -1, DATE '2020-03-01')", "2020-02-29"),
    ("date_add('week', 2, DATE '2020-01-01')", "2020-01-15"),
    ("date_add('hour', 25, TIMESTAMP '2020-01-01 00:00:00')", "2020-01-02 01:00:00.000"),
    ("date_add('minute', -90, TIMESTAMP '2020-01-01 00:00:00')", "2019-12-31 22:30:00.000"),
    ("date_add('second', 3600, TIMESTAMP '2020-01-01 00:00:00')", "2020-01-01 01:00:00.000"),
    ("date_add('millisecond', 1500, TIMESTAMP '2020-01-01 00:00:00')", "2020-01-01 00:00:01.500"),
    ("date_add('DAY', 1, DATE '2020-12-31')", "2021-01-01"),
    ("date_add('day', NULL, DATE '2020-01-01')", "NULL"),
    ("date_add('day', 1, NULL::date)", "NULL"),
    ("date_add(NULL, 1, DATE '2020-01-01')", "NULL"),
    ("date_add('fortnight', 1, TIMESTAMP '2020-01-01 00:00:00')",
     ERR + "'fortnight' is not a valid Timestamp field"),
    ("date_add('hour', 1, DATE '2020-01-01')", ERR + "'hour' is not a valid DATE field"),
    # ---- date_diff: whole units, truncated toward zero; months by calendar
    ("date_diff('day', TIMESTAMP '2020-01-01 00:00:00', TIMESTAMP '2020-01-02 23:59:59')", "1"),
    ("date_diff('day', TIMESTAMP '2020-01-02 00:00:00', TIMESTAMP '2020-01-01 00:00:01')", "0"),
    ("date_diff('day', TIMESTAMP '2020-01-03 00:00:00', TIMESTAMP '2020-01-01 00:00:00')", "-2"),
    ("date_diff('hour', TIMESTAMP '2020-01-01 00:00:00', TIMESTAMP '2019-12-31 22:30:00')", "-1"),
    ("date_diff('minute', TIMESTAMP '2020-01-01 00:00:00', TIMESTAMP '2020-01-01 01:01:59')", "61"),
    ("date_diff('second', TIMESTAMP '2020-01-01 00:00:00', TIMESTAMP '2020-01-01 00:00:01.999')", "1"),
    ("date_diff('millisecond', TIMESTAMP '2020-01-01 00:00:00.001', TIMESTAMP '2020-01-01 00:00:00')", "-1"),
    ("date_diff('week', DATE '2020-01-01', DATE '2020-01-15')", "2"),
    ("date_diff('week', DATE '2020-01-15', DATE '2020-01-02')", "-1"),
    ("date_diff('month', DATE '2020-01-31', DATE '2020-02-29')", "1"),
    ("date_diff('month', DATE '2021-01-30', DATE '2021-02-28')", "1"),
    ("date_diff('month', DATE '2020-01-30', DATE '2020-02-28')", "0"),
    ("date_diff('month', DATE '2020-02-29', DATE '2020-01-31')", "-1"),
    ("date_diff('month', TIMESTAMP '2020-01-31 12:00:00', TIMESTAMP '2020-02-29 06:00:00')", "0"),
    ("date_diff('month', DATE '2020-05-11', DATE '2019-02-11')", "-15"),
    ("date_diff('quarter', DATE '2020-01-15', DATE '2020-10-14')", "2"),
    ("date_diff('year', DATE '2020-02-29', DATE '2021-02-28')", "1"),
    ("date_diff('year', DATE '2019-03-01', DATE '2020-02-29')", "0"),
    ("date_diff('year', TIMESTAMP '2021-06-01 00:00:00', TIMESTAMP '2020-06-01 00:00:01')", "0"),
    ("date_diff('year', DATE '2021-06-01', DATE '2018-06-01')", "-3"),
    ("date_diff('day', TIMESTAMP WITH TIME ZONE '2020-01-01 22:00:00-02', "
     "TIMESTAMP WITH TIME ZONE '2020-01-03 00:00:00+00')", "1"),
    ("date_diff('day', TIMESTAMP WITH TIME ZONE '2020-01-01 23:00:00-02', "
     "TIMESTAMP WITH TIME ZONE '2020-01-03 00:00:00+00')", "0"),
    ("date_diff('second', NULL, TIMESTAMP '2020-01-01 00:00:00')", "NULL"),
    ("date_diff('hour', DATE '2020-01-01', DATE '2020-01-02')", ERR + "'hour' is not a valid DATE field"),
    ("date_diff('decade', TIMESTAMP '2020-01-01 00:00:00', TIMESTAMP '2020-01-02 00:00:00')",
     ERR + "'decade' is not a valid Timestamp field"),
    # ---- fields
    ("year(TIMESTAMP '2020-05-11 15:04:05.123')", "2020"),
    ("quarter(TIMESTAMP '2020-05-11 15:04:05.123')", "2"),
    ("month(TIMESTAMP '2020-05-11 15:04:05.123')", "5"),
    ("day(TIMESTAMP '2020-05-11 15:04:05.123')", "11"),
    ("day_of_month(DATE '2020-05-11')", "11"),
    ("hour(TIMESTAMP '2020-05-11 15:04:05.123')", "15"),
    ("minute(TIMESTAMP '2020-05-11 15:04:05.123')", "4"),
    ("second(TIMESTAMP '2020-05-11 15:04:05.923')", "5"),
    ("millisecond(TIMESTAMP '2020-05-11 15:04:05.123')", "123"),
    ("day_of_week(DATE '2020-05-10')", "7"),
    ("dow(TIMESTAMP '2020-05-11 00:00:00')", "1"),
    ("day_of_year(DATE '2020-05-11')", "132"),
    ("doy(DATE '2020-12-31')", "366"),
    ("week(DATE '2021-01-03')", "53"),
    ("week_of_year(DATE '2021-01-04')", "1"),
    ("year_of_week(DATE '2021-01-03')", "2020"),
    ("year(TIMESTAMP WITH TIME ZONE '2021-01-01 01:00:00+02')", "2020"),
    ("year(NULL::timestamp)", "NULL"),
    ("last_day_of_month(DATE '2020-02-10')", "2020-02-29"),
    # ---- JSON
    ("json_extract_scalar('{\"a\":{\"b\":[10,{\"c\":\"x\"}]}}', '$.a.b[1].c')", "x"),
    ("json_extract_scalar('{\"a\":{\"b\":[10,{\"c\":\"x\"}]}}', '$.a.b[0]')", "10"),
    ("json_extract_scalar('{\"a\":{\"b\":[10,{\"c\":\"x\"}]}}', '$[\"a\"][\"b\"][1][\"c\"]')", "x"),
    ("json_extract_scalar('{\"a\":{\"b\":[10]}}', '$.a.b')", "NULL"),
    ("json_extract_scalar('{\"a\":{\"b\":[10]}}', '$.a')", "NULL"),
    ("json_extract_scalar('{\"a\":null}', '$.a')", "NULL"),
    ("json_extract_scalar('{\"a\":true}', '$.a')", "true"),
    ("json_extract_scalar('{\"a\":1.50}', '$.a')", "1.50"),
    ("json_extract_scalar('{\"a b\":\"y\",\"q\\\"\":\"z\"}', '$[\"a b\"]')", "y"),
    ("json_extract_scalar('{\"a b\":\"y\",\"q\\\"\":\"z\"}', '$[\"q\\\"\"]')", "z"),
    ("json_extract_scalar('{\"k:1\":\"v\"}', '$.k:1')", "v"),
    ("json_extract_scalar('[1,2,3]', '$[2]')", "3"),
    ("json_extract_scalar('[1,2,3]', '$[3]')", "NULL"),
    ("json_extract_scalar('{\"a\":1}', '$.missing')", "NULL"),
    ("json_extract_scalar('{\"a\":1}', '$')", "NULL"),
    ("json_extract_scalar('\"top\"', '$')", "top"),
    ("json_extract_scalar('not json', '$.a')", "NULL"),
    ("json_extract_scalar('{\"a\":', '$.a')", "NULL"),
    ("json_extract_scalar(NULL::text, '$.a')", "NULL"),
    ("json_extract_scalar(CAST('{\"a\":{\"b\":\"z\"}}' AS jsonb), '$.a.b')", "z"),
    ("json_extract_scalar(CAST('{\"a\":[1,{\"b\":2}]}' AS jsonb), '$.a[1].b')", "2"),
    ("json_extract_scalar(CAST('{\"a\":[1]}' AS jsonb), '$.a')", "NULL"),
    ("json_extract_scalar('{\"a\":1}', '$.a-b')", ERR + "Invalid JSON path: '$.a-b'"),
    ("json_extract_scalar('{\"a\":1}', 'a')", ERR + "Invalid JSON path: 'a'"),
    ("json_extract_scalar('{\"a\":1}', '$.')", ERR + "Invalid JSON path: '$.'"),
    ("json_extract_scalar('{\"a\":1}', '$[\"a')", ERR + "Invalid JSON path"),
    ("json_extract('{\"a\":{\"b\":[1,2]}}', '$.a.b')", "[1,2]"),
    ("json_extract('{\"a\":{\"b\":[1,2]}}', '$.a.b[1]')", "2"),
    ("json_extract('{\"a\":{\"x\":\"y\"}}', '$.a')", '{"x":"y"}'),
    ("json_extract('{\"a\":\"s\"}', '$')", '{"a":"s"}'),
    ("json_extract('{\"a\":null}', '$.a')", "null"),
    ("json_extract('{\"a\":1}', '$.b')", "NULL"),
    ("json_extract('{bad', '$.a')", "NULL"),
    ("json_extract(CAST('{\"a\":[{\"b\":1}]}' AS jsonb), '$.a[0]')", '{"b":1}'),
    ("json_size('{\"a\":[1,2,3]}', '$.a')", "3"),
    ("json_size('{\"a\":{\"x\":1,\"y\":2}}', '$.a')", "2"),
    ("json_size('{\"a\":1}', '$.a')", "0"),
    ("json_size('{\"a\":1}', '$.b')", "NULL"),
    ("json_array_length('[1,2,3]')", "3"),
    ("json_array_length('{\"a\":1}')", "NULL"),
    ("json_format(json_parse('{\"a\": [1, 2], \"b\": \"c d\"}'))", '{"a":[1,2],"b":"c d"}'),
    # ---- arrays and maps
    ("element_at(ARRAY[1,2,3], 1)", "1"),
    ("element_at(ARRAY[1,2,3], -1)", "3"),
    ("element_at(ARRAY[1,2,3], -3)", "1"),
    ("element_at(ARRAY[1,2,3], 4)", "NULL"),
    ("element_at(ARRAY[1,2,3], -4)", "NULL"),
    ("element_at(ARRAY[1,2,3], 9999999999)", "NULL"),
    ("element_at(ARRAY['a','b'], 2)", "b"),
    ("element_at(ARRAY[1,2,3], NULL)", "NULL"),
    ("element_at(ARRAY[1,2,3], 0)", ERR + "SQL array indices start at 1"),
    ("element_at(CAST('{\"k\":\"v\"}' AS jsonb), 'k')", "v"),
    ("element_at(CAST('{\"k\":\"v\"}' AS jsonb), 'z')", "NULL"),
    ("element_at(CAST('[{\"a\":1},{\"a\":2}]' AS jsonb), -1)", '{"a":2}'),
    ("element_at(CAST('[{\"a\":1},{\"a\":2}]' AS jsonb), 1)", '{"a":1}'),
    ("element_at(CAST('[{\"a\":1},{\"a\":2}]' AS jsonb), 3)", "NULL"),
    ("cardinality(ARRAY[1,2,3])", "3"),
    ("cardinality(ARRAY[]::integer[])", "0"),
    ("cardinality(NULL::integer[])", "NULL"),
    ("cardinality(CAST('{\"a\":1,\"b\":2}' AS jsonb))", "2"),
    ("cardinality(CAST('[1,2,3,4]' AS jsonb))", "4"),
    ("contains(ARRAY[1,2,3], 2)", "true"),
    ("contains(ARRAY[1,2,3], 5)", "false"),
    ("contains(ARRAY[1,NULL], 3)", "NULL"),
    ("array_join(ARRAY['a',NULL,'c'], ',')", "a,c"),
    ("array_join(ARRAY['a',NULL], ',', 'x')", "a,x"),
    ("split('a,b,,c', ',')", "[a, b, , c]"),
    ("split('', ',')", "[]"),
    ("cardinality(split('', ','))", "1"),
    ("split('a,b,c,d', ',', 2)", "[a, b,c,d]"),
    ("split('abc', '')", ERR + "The delimiter may not be the empty string"),
    # ---- strings (split_part overrides PostgreSQL's, which gives '' past the end)
    ("split_part('a,b,c', ',', 2)", "b"),
    ("split_part('a,b,c', ',', 3)", "c"),
    ("split_part('a,b,c', ',', 4)", "NULL"),
    ("split_part('a,b,', ',', 3)", ""),
    ("split_part('a,b,', ',', 4)", "NULL"),
    ("split_part('', ',', 1)", ""),
    ("split_part('', ',', 2)", "NULL"),
    ("split_part('abc', '', 2)", "b"),
    ("split_part('abc', '', 4)", "NULL"),
    ("split_part('a::b::c', '::', 3)", "c"),
    ("split_part('a,b', ',', 5000000000)", "NULL"),
    ("split_part(NULL, ',', 1)", "NULL"),
    ("split_part('a,b', ',', 0)", ERR + "Index must be greater than zero"),
    ("split_part('a,b', ',', -1)", ERR + "Index must be greater than zero"),
    ("substr('hello', -3)", "llo"),
    ("substr('hello', 2, 3)", "ell"),
    ("substr('hello', -3, 2)", "ll"),
    ("substr('hello', 0)", ""),
    ("substr('hello', 10)", ""),
    ("substr('hello', -10)", ""),
    ("substring('hello', -2)", "lo"),
    ("substr(NULL, 1)", "NULL"),
    ("round(2.5::double precision)", "3.0"),
    ("round(-2.5::double precision)", "-3.0"),
    ("round(2.345::double precision, 1)", "2.3"),
    ("round(-1.25::double precision, 1)", "-1.3"),
    ("round(2.5)", "3"),
    ("truncate(-2.7::double precision)", "-2.0"),
    ("concat('a', NULL)", "NULL"),
    ("concat('a', 'b', 'c')", "abc"),
    ("replace('banana', 'a')", "bnn"),
    ("if(1 > 0, 'y', 'n')", "y"),
    ("if(1 < 0, 'y', 'n')", "n"),
    ("if(false, 1)", "NULL"),
    ("if(true, 'a')", "a"),
    # ---- regular expressions (Java syntax, translated)
    ("regexp_like('abc', 'b')", "true"),
    ("regexp_like('abc', '^b')", "false"),
    ("regexp_like('foo bar', '\\bbar\\b')", "true"),
    ("regexp_like('foobar', '\\bbar\\b')", "false"),
    ("regexp_like('ABC', '(?i)abc')", "true"),
    ("regexp_like('a' || chr(10) || 'b', 'a.b')", "false"),
    ("regexp_like('a' || chr(10) || 'b', '(?s)a.b')", "true"),
    ("regexp_like('a' || chr(10), 'a$')", "true"),
    ("regexp_like('x' || chr(10) || 'y', '^y')", "false"),
    ("regexp_like('x' || chr(10) || 'y', '(?m)^y$')", "true"),
    ("regexp_like('a.b', '\\Q.\\E')", "true"),
    ("regexp_like('ab', '\\Q.\\E')", "false"),
    ("regexp_like('aaa', 'a++')", "true"),
    ("regexp_like('id=42', 'id=(?<num>\\d+)')", "true"),
    ("regexp_like('A', '\\p{Upper}')", "true"),
    ("regexp_like('a', '\\x{61}')", "true"),
    ("regexp_like(NULL, 'a')", "NULL"),
    ("regexp_like('a', 'a(?i)b')", ERR + "Unsupported regular expression group"),
    ("regexp_extract('a1b22c333', '\\d+')", "1"),
    ("regexp_extract('a1b22c333', '([a-z])(\\d+)', 2)", "1"),
    ("regexp_extract('a1b22c333', '([a-z])(\\d+)', 0)", "a1"),
    ("regexp_extract('abc', 'x')", "NULL"),
    ("regexp_extract('abc', 'b', 1)", ERR + "Pattern has 0 groups. Cannot access group 1"),
    ("regexp_extract_all('a1b22c333', '\\d+')", "[1, 22, 333]"),
    ("regexp_extract_all('a1b22c333', '([a-z])(\\d+)', 1)", "[a, b, c]"),
    ("regexp_replace('a1b22', '\\d')", "ab"),
    ("regexp_replace('hello world', '(\\w+) (\\w+)', '$2 $1')", "world hello"),
    ("regexp_replace('abc', 'b', '\\$')", "a$c"),
    ("regexp_replace('abc', 'b', '[$0]')", "a[b]c"),
    ("regexp_replace('abc', 'b', '$2')", ERR + "No group 2"),
    ("regexp_count('aaa', 'a')", "3"),
    ("regexp_split('1a 2b 14m', '\\s*[a-z]+\\s*')", "[1, 2, 14, ]"),
    # ---- aggregates
    ("(SELECT approx_distinct(x) FROM (VALUES (1),(2),(2),(NULL),(3)) v(x))", "3"),
    ("(SELECT approx_distinct(x) FROM (VALUES ('a'),('b'),('a')) v(x))", "2"),
    ("(SELECT approx_distinct(x) FROM (SELECT 1 WHERE false) v(x))", "0"),
    ("(SELECT approx_percentile(x, 0.5) FROM generate_series(1, 10) x)", "6"),
    ("(SELECT approx_percentile(x::double precision, 0.5) FROM generate_series(1, 10) x)", "6.0"),
    ("(SELECT approx_percentile(x::double precision, 0.5) FROM generate_series(1, 9) x)", "5.0"),
    ("(SELECT approx_percentile(x, 0.1) FROM generate_series(1, 10) x)", "2"),
    ("(SELECT approx_percentile(x, 0.05) FROM generate_series(1, 10) x)", "1"),
    ("(SELECT approx_percentile(x, 0.9) FROM generate_series(1, 10) x)", "10"),
    ("(SELECT approx_percentile(x, 0.0) FROM generate_series(1, 10) x)", "1"),
    ("(SELECT approx_percentile(x, 1.0) FROM generate_series(1, 10) x)", "10"),
    ("(SELECT approx_percentile(x::double precision, ARRAY[0.25, 0.75]) FROM generate_series(1, 10) x)",
     "[3.0, 8.0]"),
    ("(SELECT approx_percentile(x, ARRAY[0.5]) FROM generate_series(1, 10) x)", "[6]"),
    ("(SELECT approx_percentile(x::real, 0.5) FROM generate_series(1, 3) x)", "2.0"),
    ("(SELECT approx_percentile(x, 0.5) FROM (VALUES (1.5::float8),(2.5),(10),(NULL)) v(x))", "2.5"),
    ("(SELECT approx_percentile(x, 0.5) FROM (SELECT 1.0::float8 WHERE false) v(x))", "NULL"),
    ("(SELECT approx_percentile(x, 1.5) FROM generate_series(1, 3) x)",
     ERR + "Percentile must be between 0 and 1"),
    ("(SELECT approx_percentile(x, 0.5) FROM (VALUES ('NaN'::float8)) v(x))",
     ERR + "value must be finite"),
    ("(SELECT count_if(x > 2) FROM generate_series(1, 5) x)", "3"),
    ("(SELECT count_if(x > 9) FROM generate_series(1, 5) x)", "0"),
    ("(SELECT arbitrary(x) FROM (VALUES (NULL::int), (7)) v(x))", "7"),
    ("(SELECT max_by(n, v) FROM (VALUES ('a', 3), ('b', 10), ('c', 1), ('d', NULL)) t(n, v))", "b"),
    ("(SELECT min_by(n, v) FROM (VALUES ('a', 3), ('b', 10), ('c', 1), ('d', NULL)) t(n, v))", "c"),
    ("(SELECT max_by(v, ts) FROM (VALUES (1, TIMESTAMP '2020-01-01 00:00:00'), "
     "(2, TIMESTAMP '2021-01-01 00:00:00')) t(v, ts))", "2"),
    # ---- TRY_CAST: fl_try_cast_<type>
    ("fl_try_cast_bigint('12')", "12"),
    ("fl_try_cast_bigint(' 12 ')", "12"),
    ("fl_try_cast_bigint('+7')", "7"),
    ("fl_try_cast_bigint('-9223372036854775808')", "-9223372036854775808"),
    ("fl_try_cast_bigint('9223372036854775807')", "9223372036854775807"),
    ("fl_try_cast_bigint('9223372036854775808')", "NULL"),
    ("fl_try_cast_bigint('1.5')", "NULL"),
    ("fl_try_cast_bigint('1e3')", "NULL"),
    ("fl_try_cast_bigint('abc')", "NULL"),
    ("fl_try_cast_bigint('')", "NULL"),
    ("fl_try_cast_bigint(NULL::text)", "NULL"),
    ("fl_try_cast_bigint(2.5::double precision)", "3"),
    ("fl_try_cast_bigint(-2.5::double precision)", "-3"),
    ("fl_try_cast_bigint(1e30::double precision)", "NULL"),
    ("fl_try_cast_bigint('NaN'::double precision)", "NULL"),
    ("fl_try_cast_bigint(2.5)", "3"),
    ("fl_try_cast_bigint(true)", "1"),
    ("fl_try_cast_bigint(CAST('\"42\"' AS jsonb))", "42"),
    ("fl_try_cast_bigint(DATE '2020-01-01')", "NULL"),
    ("fl_try_cast_integer('2147483647')", "2147483647"),
    ("fl_try_cast_integer('2147483648')", "NULL"),
    ("fl_try_cast_integer('-2147483648')", "-2147483648"),
    ("fl_try_cast_integer(3000000000::bigint)", "NULL"),
    ("fl_try_cast_integer('x1')", "NULL"),
    ("fl_try_cast_smallint('32767')", "32767"),
    ("fl_try_cast_smallint('32768')", "NULL"),
    ("fl_try_cast_tinyint('127')", "127"),
    ("fl_try_cast_tinyint('128')", "NULL"),
    ("fl_try_cast_double('1.5')", "1.5"),
    ("fl_try_cast_double(' 2.5 ')", "2.5"),
    ("fl_try_cast_double('-.5')", "-0.5"),
    ("fl_try_cast_double('1e3')", "1000.0"),
    ("fl_try_cast_double('1.5d')", "1.5"),
    ("fl_try_cast_double('12345678')", "1.2345678E7"),
    ("fl_try_cast_double('1e400')", "Infinity"),
    ("fl_try_cast_double('-1e400')", "-Infinity"),
    ("fl_try_cast_double('1e-400')", "0.0"),
    ("fl_try_cast_double('NaN')", "NaN"),
    ("fl_try_cast_double('nan')", "NULL"),
    ("fl_try_cast_double('inf')", "NULL"),
    ("fl_try_cast_double('1,5')", "NULL"),
    ("fl_try_cast_double('abc')", "NULL"),
    ("fl_try_cast_double('')", "NULL"),
    ("fl_try_cast_double(7)", "7.0"),
    ("fl_try_cast_real('1.5')", "1.5"),
    ("fl_try_cast_real('1e39')", "Infinity"),
    ("fl_try_cast_real('x')", "NULL"),
    ("fl_try_cast_boolean('true')", "true"),
    ("fl_try_cast_boolean('TRUE')", "true"),
    ("fl_try_cast_boolean('F')", "false"),
    ("fl_try_cast_boolean('1')", "true"),
    ("fl_try_cast_boolean('0')", "false"),
    ("fl_try_cast_boolean('yes')", "NULL"),
    ("fl_try_cast_boolean(' true')", "NULL"),
    ("fl_try_cast_boolean(0.0::double precision)", "false"),
    ("fl_try_cast_boolean(5)", "true"),
    ("fl_try_cast_date('2020-02-29')", "2020-02-29"),
    ("fl_try_cast_date(' 2020-1-5 ')", "2020-01-05"),
    ("fl_try_cast_date('2021-02-29')", "NULL"),
    ("fl_try_cast_date('2020-13-01')", "NULL"),
    ("fl_try_cast_date('2020/01/01')", "NULL"),
    ("fl_try_cast_date('Jan 1 2020')", "NULL"),
    ("fl_try_cast_date(TIMESTAMP '2020-01-01 10:00:00')", "2020-01-01"),
    ("fl_try_cast_date(12)", "NULL"),
    ("fl_try_cast_timestamp('2020-01-01 10:00:00.1235')", "2020-01-01 10:00:00.124"),
    ("fl_try_cast_timestamp('2020-01-01 23:59:59.9996')", "2020-01-02 00:00:00.000"),
    ("fl_try_cast_timestamp('2020-01-01')", "2020-01-01 00:00:00.000"),
    ("fl_try_cast_timestamp('2020-01-01 10:00')", "2020-01-01 10:00:00.000"),
    ("fl_try_cast_timestamp('2020-01-01T10:00:00')", "NULL"),
    ("fl_try_cast_timestamp('2020-01-01 25:00:00')", "NULL"),
    ("fl_try_cast_timestamp('2020-02-30 10:00:00')", "NULL"),
    ("fl_try_cast_timestamp('garbage')", "NULL"),
    ("fl_try_cast_timestamp(DATE '2020-01-01')", "2020-01-01 00:00:00.000"),
    ("fl_try_cast_numeric('1.255', 10, 2)", "1.26"),
    ("fl_try_cast_numeric('-1.255', 10, 2)", "-1.26"),
    ("fl_try_cast_numeric('12345.6', 5, 2)", "NULL"),
    ("fl_try_cast_numeric('1.5')", "1.5"),
    ("fl_try_cast_numeric('1e3')", "1000"),
    ("fl_try_cast_numeric('abc')", "NULL"),
    ("fl_try_cast_numeric(1.5::double precision, 4, 0)", "2"),
    ("fl_try_cast_numeric('Infinity'::double precision)", "NULL"),
    ("fl_try_cast_text(1.5::double precision)", "1.5"),
    ("fl_try_cast_text(100::double precision)", "100.0"),
    ("fl_try_cast_text(1e10::double precision)", "1.0E10"),
    ("fl_try_cast_text(0.0001::double precision)", "1.0E-4"),
    ("fl_try_cast_text(42)", "42"),
    ("fl_try_cast_text(true)", "true"),
    ("fl_try_cast_text(TIMESTAMP '2020-01-01 10:00:00')", "2020-01-01 10:00:00.000"),
    ("fl_try_cast_text(DATE '2020-01-01')", "2020-01-01"),
    ("fl_try_cast_text(CAST('\"x\"' AS jsonb))", "x"),
    ("fl_try_cast_text(CAST('[1]' AS jsonb))", "NULL"),
    ("fl_try_cast_text('abc')", "abc"),
    ("fl_try_cast_jsonb('{\"a\": 1}')", '{"a":1}'),
    ("fl_try_cast_jsonb('{bad')", "NULL"),
]

# Functions whose volatility the planner relies on.
VOLATILITY = {
    "date_add": "i", "date_diff": "i", "from_unixtime": "i", "to_unixtime": "i",
    "json_extract_scalar": "i", "json_extract": "i", "regexp_like": "i",
    "split_part": "i", "element_at": "i", "cardinality": "i", "date_parse": "i",
    "from_iso8601_timestamp": "i", "year": "i", "day_of_week": "i",
    "fl_try_cast_bigint": "i", "fl_try_cast_double": "i",
    # built on to_char, which PostgreSQL declares STABLE (see the migration)
    "date_format": "s", "to_iso8601": "s", "format_datetime": "s",
}

AGGREGATES = ["approx_distinct", "approx_percentile", "count_if", "arbitrary",
              "any_value", "max_by", "min_by"]


def literal(s):
    """A dollar-quoted SQL literal for s."""
    assert "$fl$" not in s
    return "$fl$" + s + "$fl$"


class Cluster:
    """psql against the embedded PostgreSQL of a running firelake."""

    def __init__(self, data_dir):
        pid_file = os.path.join(data_dir, "pg", "data", "postmaster.pid")
        with open(pid_file) as f:
            lines = f.read().splitlines()
        # postmaster.pid: pid, data dir, start time, port, socket dir, ...
        self.port, self.sockdir = lines[3].strip(), lines[4].strip()

    def psql(self, sql):
        cmd = ["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-R", "\x1e",
               "-v", "ON_ERROR_STOP=1", "-h", self.sockdir, "-p", self.port,
               "-U", "firelake", "-d", "firelake"]
        p = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise AssertionError("psql failed (%d): %s\n--- SQL:\n%s" % (p.returncode, p.stderr, sql[:4000]))
        return p

    def rows(self, sql):
        out = self.psql(sql).stdout
        if out.endswith("\n"):
            out = out[:-1]             # psql ends the output with a newline
        return [r.split("\x1f") for r in out.split("\x1e") if r != ""]


# Every session: an unprivileged role with the query engine's search_path,
# and a helper that evaluates one expression and returns its Athena text or
# the error it raised.
SESSION = """
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'fl_trino_test') THEN
        CREATE ROLE fl_trino_test NOLOGIN;
    END IF;
END $$;
CREATE FUNCTION pg_temp.eval(q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    r text;
BEGIN
    EXECUTE 'SELECT coalesce(fl_trino._athena_text((' || q || ')), ''NULL'')' INTO r;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERROR: ' || SQLERRM;
END $f$;
SET ROLE fl_trino_test;
SET search_path = fl_trino, pg_catalog;
"""


class TrinoFunctionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = harness.Server().start()
        cls.pg = Cluster(cls.srv.data_dir)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_migration_recorded(self):
        rows = self.pg.rows("SELECT name FROM fl_schema_migrations WHERE name = '0003_trino.sql';")
        self.assertEqual(rows, [["0003_trino.sql"]])

    def test_cases(self):
        values = ",\n".join("(%d, %s)" % (i, literal(expr)) for i, (expr, _) in enumerate(CASES))
        rows = self.pg.rows(SESSION + "SELECT n, pg_temp.eval(q) FROM (VALUES %s) v(n, q) ORDER BY n;" % values)
        got = {int(n): text for n, text in rows}
        self.assertEqual(len(got), len(CASES))
        failures = []
        for i, (expr, want) in enumerate(CASES):
            text = got[i]
            if want.startswith(ERR):
                ok = text.startswith(ERR) and want[len(ERR):] in text
            else:
                ok = text == want
            if not ok:
                failures.append("%s\n    want %r\n     got %r" % (expr, want, text))
        self.assertFalse(failures, "%d of %d cases differ:\n  %s"
                         % (len(failures), len(CASES), "\n  ".join(failures)))

    def test_builtins_overridden_on_search_path(self):
        # PostgreSQL's own split_part gives '' past the end and its
        # cardinality returns integer: the query role must get Trino's.
        rows = self.pg.rows(SESSION + "SELECT split_part('a,b', ',', 5) IS NULL, "
                            "pg_typeof(cardinality(ARRAY[1]))::text, "
                            "regexp_replace('aXbX', 'X', '-');")
        self.assertEqual(rows, [["t", "bigint", "a-b-"]])

    def test_catalog(self):
        rows = self.pg.rows(
            "SELECT p.oid::regprocedure, p.proparallel, p.prosecdef, p.provolatile "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'fl_trino';")
        self.assertGreater(len(rows), 200)
        for sig, parallel, secdef, _ in rows:
            self.assertEqual(parallel, "s", sig + " is not PARALLEL SAFE")
            self.assertEqual(secdef, "f", sig + " is SECURITY DEFINER")
        for name, want in VOLATILITY.items():
            vols = {v for sig, _, _, v in rows if sig.startswith("fl_trino.%s(" % name)}
            self.assertEqual(vols, {want}, name)
        aggs = self.pg.rows(
            "SELECT p.proname, a.aggcombinefn::text FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'fl_trino';")
        self.assertEqual({name for name, _ in aggs}, set(AGGREGATES))
        for name, combine in aggs:
            self.assertNotEqual(combine, "-", name + " has no combine function")
        privs = self.pg.rows(
            "CREATE ROLE fl_trino_unpriv_probe NOLOGIN; "
            "SELECT has_schema_privilege('fl_trino_unpriv_probe', 'fl_trino', 'USAGE'), "
            "has_schema_privilege('fl_trino_unpriv_probe', 'fl_trino', 'CREATE'), "
            "has_function_privilege('fl_trino_unpriv_probe', "
            "'fl_trino.date_add(text,bigint,timestamp)', 'EXECUTE');")
        self.assertEqual(privs, [["t", "f", "t"]])

    def test_inlined_and_folded(self):
        # The per-row functions must vanish into plain expressions with
        # their constant arguments folded; otherwise GROUP BY date_format(..)
        # over millions of rows pays a function call (or a parse) per row.
        plan = "\n".join(r[0] for r in self.pg.rows(
            SESSION + "CREATE TEMP TABLE ev (ts timestamp, j jsonb, s text);\n"
            "EXPLAIN (VERBOSE, COSTS OFF) SELECT date_format(ts, '%Y-%m-%d'), date_add('day', 1, ts), "
            "date_diff('hour', ts, TIMESTAMP '2024-01-01 00:00:00'), json_extract_scalar(j, '$.a.b'), "
            "regexp_like(s, '\\bx\\b'), split_part(s, ',', 2), year(ts), element_at(ARRAY[1,2], 2) FROM ev;"))
        for gone in ("date_format", "date_add", "date_diff", "json_extract_scalar", "regexp_like",
                     "fl_trino.split_part", "year(", "element_at", "_df_pattern", "_json_path",
                     "_java_regex", "_unit_interval"):
            self.assertNotIn(gone, plan)
        for present in ("to_char(ts, '\"\"YYYY\"-\"MM\"-\"DD\"\"'::text)", "'1 day'::interval",
                        "'{a,b}'::text[]", "'\\yx\\y'::text", "string_to_array(s, ','::text)",
                        "date_part('year'::text, ts)"):
            self.assertIn(present, plan)

    def test_parallel_aggregates(self):
        N, PRIME = 300000, 300007
        # Partial aggregation in parallel workers, combined: the same
        # answers as one process.
        setup = SESSION + (
            "RESET ROLE;\n"
            "CREATE TABLE public.fl_trino_par AS SELECT i, (i %% 1000)::text AS s, "
            "(i * 7919 %% %d)::double precision AS x, i %% 3 = 0 AS b "
            "FROM generate_series(1::bigint, %d) i;\n" % (PRIME, N)) + (
            "ANALYZE public.fl_trino_par;\n"
            "GRANT SELECT ON public.fl_trino_par TO fl_trino_test;\n"
            "SET ROLE fl_trino_test;\n")
        query = ("SELECT approx_distinct(s), approx_distinct(x), count_if(b), "
                 "round(approx_percentile(x, 0.5)), round(approx_percentile(x, 0.99)), "
                 "max_by(s, x), min_by(i, x) FROM public.fl_trino_par;")
        forced = ("SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; "
                  "SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2;\n")
        plan = "\n".join(r[0] for r in self.pg.rows(setup + forced + "EXPLAIN (COSTS OFF) " + query))
        self.assertIn("Partial Aggregate", plan)
        self.assertIn("Gather", plan)
        parallel = self.pg.rows(SESSION + forced + query)
        serial = self.pg.rows(SESSION + "SET max_parallel_workers_per_gather = 0;\n" + query)
        # x = i * 7919 mod PRIME: distinct for i < PRIME, computed here.
        x = {i: i * 7919 % PRIME for i in range(1, N + 1)}
        i_max, i_min = max(x, key=x.get), min(x, key=x.get)
        want = [str(1000), str(N), str(N // 3), str(i_max % 1000), str(i_min)]
        self.assertEqual(parallel[0][:3] + parallel[0][5:], want)
        self.assertEqual(serial[0][:3] + serial[0][5:], want)
        # The digest: within 1% of rank of the exact percentiles, in both plans.
        ranked = sorted(x.values())
        for row in (parallel[0], serial[0]):
            for got, p in ((row[3], 0.5), (row[4], 0.99)):
                exact = ranked[int(p * N)]
                self.assertLess(abs(float(got) - exact), PRIME * 0.01, (p, got, exact))

    def test_percentile_matches_trino_small_inputs(self):
        # While every value is its own centroid Trino's t-digest returns the
        # value at 0-based rank floor(p * n) (min below rank 1, max from
        # rank n - 1): checked here for n = 1..40 and many p.
        rows = self.pg.rows(
            SESSION + "SELECT n, p, approx_percentile(v, p) FROM generate_series(1, 40) n, "
            "unnest(ARRAY[0, 0.01, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 0.95, 0.99, 1]::float8[]) p, "
            "LATERAL (SELECT (k * 37 % 101)::float8 AS v FROM generate_series(1, n) k) d GROUP BY n, p;")
        self.assertEqual(len(rows), 40 * 12)
        for n, p, got in rows:
            n, p = int(n), float(p)
            values = sorted(float(k * 37 % 101) for k in range(1, n + 1))
            idx = p * n
            if n == 1 or idx < 1:
                want = values[0]
            elif idx >= n - 1:
                want = values[-1]
            else:
                want = values[int(idx)]
            self.assertEqual(float(got), want, (n, p))


if __name__ == "__main__":
    unittest.main(verbosity=2)
