#!/usr/bin/env python3
"""make_seeds.py - (re)writes the seed corpora fuzz/corpus/<target>/ and the
libFuzzer dictionaries fuzz/dict/<target>.dict.

Seeds are real inputs: the request examples in api/, the strings of the
unit tests' case tables, AWS's SigV4 test suite (tests/sigv4/).  Each
target's input format is described at the top of fuzz/fuzz_<target>.c.
Run from the repository root:  python3 fuzz/make_seeds.py
The dictionaries hold the words each parser looks for (member names and
enum values of the generated shapes, SQL keywords, expression namespaces),
which a mutating fuzzer would hardly guess.  Both are committed; rerun
when the sources above change much.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
MAX_SEEDS = 80          # per target
MAX_SEED_BYTES = 16384  # per seed


def read(*parts):
    with open(os.path.join(ROOT, *parts), "rb") as f:
        return f.read()


def c_strings(line):
    """The C string literals of one line, decoded (adjacent ones joined)."""
    out, cur, i, joined = [], None, 0, False
    while i < len(line):
        c = line[i]
        if c == '"':
            j, buf = i + 1, bytearray()
            while j < len(line) and line[j] != '"':
                if line[j] == '\\' and j + 1 < len(line):
                    e = line[j + 1]
                    simple = {'n': 10, 't': 9, 'r': 13, '\\': 92, '"': 34, "'": 39,
                              '0': 0, 'a': 7, 'b': 8, 'f': 12, 'v': 11}
                    if e == 'x':
                        m = re.match(r'[0-9a-fA-F]{1,2}', line[j + 2:])
                        buf.append(int(m.group(0), 16))
                        j += 2 + len(m.group(0))
                        continue
                    if e in '01234567':
                        m = re.match(r'[0-7]{1,3}', line[j + 1:])
                        buf.append(int(m.group(0), 8) & 255)
                        j += 1 + len(m.group(0))
                        continue
                    buf.append(simple.get(e, ord(e)))
                    j += 2
                    continue
                buf += line[j].encode()
                j += 1
            if cur is not None and joined:
                cur += buf
            else:
                if cur is not None:
                    out.append(bytes(cur))
                cur = buf
            joined = True
            i = j + 1
            continue
        if not c.isspace():
            joined = False
        i += 1
    if cur is not None:
        out.append(bytes(cur))
    return out


def write(target, seeds):
    d = os.path.join(CORPUS, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    seen = set()
    n = 0
    for s in seeds:
        if len(s) > MAX_SEED_BYTES or s in seen:
            continue
        seen.add(s)
        name = hashlib.sha1(s).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(s)
        n += 1
        if n == MAX_SEEDS:
            break
    print(f"{target}: {n} seeds")


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def api(service):
    d = os.path.join(ROOT, "api", service)
    for name in sorted(os.listdir(d)):
        if name.endswith(".request.json"):
            yield name[:-len(".request.json")], json.loads(read("api", service, name))


def events():
    ev = [b'{"event_uuid":"u1","event_name":"payment:order:completed","created_at":1767226391}',
          b'{"event_uuid":"u","event_name":"login","created_at":0}',
          b'{"event_uuid":"u","event_name":"a:b","created_at":1767226391.25,"x":[1,{"y":null}]}',
          b'  {"created_at":1.767226391e9,"event_name":"p\\u003aq:r","event_uuid":"\\u00e9"} ',
          b'{"event_uuid":"u","event_name":"x:y","created_at":253402300799.999,'
          b'"event_type":"old","created_datetime":"old","event_subtype":null}',
          b'{"event_uuid":"u","event_name":"a","created_at":-0,"event_uuid":"v"}']
    for _, req in api("firehose"):
        for rec in req.get("Records", []) + ([req["Record"]] if "Record" in req else []):
            for line in base64.b64decode(rec["Data"]).split(b"\n"):
                if line:
                    ev.append(line)
    return ev


def firehose():
    seeds = []
    for op, req in api("firehose"):
        for k in ("S3DestinationConfiguration", "ExtendedS3DestinationConfiguration",
                  "S3DestinationUpdate", "ExtendedS3DestinationUpdate"):
            if k in req:
                seeds.append(k.encode() + b"\n" + compact(req[k]))
                if k == "ExtendedS3DestinationUpdate":
                    seeds.append(k.encode() + b" dp\n" + compact(req[k]))
        if op in ("PutRecord", "PutRecordBatch"):
            seeds.append(op.encode() + b"\n" + compact(req))
    plain = {"RoleARN": "arn:aws:iam::000000000000:role/firehose",
             "BucketARN": "arn:aws:s3:::lake", "Prefix": "logs/",
             "CompressionFormat": "UNCOMPRESSED",
             "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300}}
    seeds.append(b"S3DestinationConfiguration\n" + compact(plain))
    seeds.append(b"ExtendedS3DestinationUpdate dp\n" + compact(
        {"Prefix": "p/k=!{partitionKeyFromQuery:k}/!{timestamp:yyyy}/"}))
    seeds.append(b"S3DestinationUpdate\n" + compact({"Prefix": "other/"}))
    recs = [{"Data": base64.b64encode(e + b"\n").decode()} for e in events()[:4]]
    seeds.append(b"PutRecordBatch\n" + compact({"DeliveryStreamName": "events", "Records": recs}))
    seeds.append(b'PutRecord\n{"DeliveryStreamName":"events","Record":{"Data":"e30K"}}')
    seeds.append(b'PutRecord\n{"DeliveryStreamName":"events","Record":{"Data":"\\/\\/8="}}')
    return seeds


def awsshape():
    seeds = []
    for svc in ("glue", "athena"):
        for op, req in api(svc):
            seeds.append(f"{svc}:{op}\n".encode() + compact(req))
    seeds.append(b'glue:GetTable\n{"DatabaseName":"a\\tb \\u00e9\\ud83d\\ude00","Name":"t"}')
    seeds.append(b'glue:GetTable\n{}')
    seeds.append(b'athena:StartQueryExecution\n{"QueryString":"SELECT 1","WorkGroup":"primary",'
                 b'"ClientRequestToken":"' + b"a" * 40 + b'"}')
    return seeds


def prefix():
    seeds = []
    src = read("tests", "unit", "test_prefix.c").decode()
    exprs = []
    for line in src.splitlines():
        if line.lstrip().startswith('{ "') or "compile(" in line:
            s = c_strings(line)
            if s and b"\n" not in s[0]:
                exprs.append(s[0])
    ev = events()
    lake = (b"raw/events/event_type=!{partitionKeyFromQuery:event_type}/"
            b"dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/")
    seeds.append(lake + b"\n" + ev[0])
    seeds.append(b"E errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/\n" + ev[1])
    seeds.append(b"p/!{firehose:random-string}/!{firehose:random-string}/\n" + ev[2])
    seeds.append(b"D yyyy-MM-dd'T'HH:mm:ss.SSS'Z' EEEE MMMM a h K k D\n" + ev[2])
    for i, e in enumerate(exprs):
        if b"!{" in e or b"/" in e:
            mode = b"E " if b"error-output-type" in e else b""
            seeds.append(mode + e + b"\n" + ev[i % len(ev)])
        else:
            seeds.append(b"D " + e + b"\n" + ev[i % len(ev)])
    return seeds


def glue_expr():
    seeds = []
    src = read("tests", "unit", "test_glue_expr.c").decode()
    for line in src.splitlines():
        if line.lstrip().startswith('{ "'):
            s = c_strings(line)
            if len(s) >= 2 and re.match(rb"^[a-zA-Z]+(\(.*\))?$", s[1]):
                continue  # a key of the test's table: { "dt", "string" }
            if s:
                seeds.append(b"\n" + s[0])
    seeds.append(b"year:int,month:int,day:int\nyear = 2024 AND (month IN (1,2) OR day BETWEEN 1 AND 9)")
    seeds.append(b"dt:string\ndt LIKE '2024-%' AND NOT dt IS NULL")
    seeds.append(b"\n`event type` = 'a''b'")
    return seeds


def athena_sql():
    seeds = []
    for f in ("test_athena_ddl.c", "test_sqlrewrite.c"):
        src = read("tests", "unit", f).decode()
        # join continuation lines of one case so adjacent literals meet
        for s in c_strings(src.replace("\n", " ")):
            if re.match(rb"\s*(/\*.*?\*/\s*)?(SELECT|WITH|VALUES|SHOW|CREATE|DROP|ALTER|MSCK|"
                        rb"DESCRIBE|DESC|EXPLAIN|\()", s, re.I | re.S):
                seeds.append(s)
    seeds.append(b"SELECT 1")
    return seeds[:MAX_SEEDS - 1] + [b"SELECT 1"]


def sigv4():
    seeds = []
    d = os.path.join(ROOT, "tests", "sigv4")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".req"):
            continue
        base = name[:-4]
        req = read("tests", "sigv4", name).decode("utf-8", "replace").replace("\r\n", "\n")
        head, _, _body = req.partition("\n\n")
        lines = head.split("\n")
        method, _, rest = lines[0].partition(" ")
        target = rest.rsplit(" ", 1)[0]
        path, _, query = target.partition("?")
        headers = [l for l in lines[1:] if ":" in l]
        date = next((h.split(":", 1)[1] for h in headers if h.lower().startswith("x-amz-date:")),
                    "20150830T123600Z")
        authz = b""
        p = os.path.join(d, base + ".authz")
        if os.path.exists(p):
            authz = read("tests", "sigv4", base + ".authz").strip()
        seed = b"\n".join([authz, date.encode(), method.encode(), path.encode(),
                           query.encode()] + [h.encode() for h in headers])
        seeds.append(seed)
    seeds.append(b"\n\nGET\n/bucket/key\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
                 b"AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
                 b"20150830T123600Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&"
                 b"X-Amz-Signature=" + b"a" * 64)
    return seeds


def dict_entry(word):
    out = []
    for b in word:
        c = chr(b)
        if c in '"\\' or b < 0x20 or b > 0x7e:
            out.append("\\x%02x" % b)
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def write_dict(target, words):
    d = os.path.join(ROOT, "fuzz", "dict")
    os.makedirs(d, exist_ok=True)
    words = sorted(set(w for w in words if 0 < len(w) <= 64))
    with open(os.path.join(d, target + ".dict"), "w") as f:
        f.write(f"# {target}: written by fuzz/make_seeds.py\n")
        for w in words:
            f.write(dict_entry(w) + "\n")
    print(f"{target}.dict: {len(words)} words")


def literals(*paths, pattern=rb'"([A-Za-z][A-Za-z0-9_.:-]*)"'):
    words = set()
    for p in paths:
        words |= set(re.findall(pattern, read(*p)))
    return words


SQL_WORDS = [w.encode() for w in (
    "SELECT FROM WHERE WITH AS JOIN LEFT RIGHT FULL CROSS INNER OUTER ON USING "
    "GROUP BY ORDER HAVING LIMIT OFFSET UNION ALL DISTINCT VALUES UNNEST LATERAL "
    "CAST TRY_CAST CASE WHEN THEN ELSE END AND OR NOT IN IS NULL LIKE BETWEEN "
    "EXISTS INTERVAL DATE TIMESTAMP ROW ARRAY MAP struct array map varchar "
    "decimal bigint double boolean string int SHOW TABLES DATABASES SCHEMAS "
    "PARTITIONS COLUMNS CREATE EXTERNAL TABLE DATABASE SCHEMA IF PARTITIONED "
    "FORMAT SERDE SERDEPROPERTIES DELIMITED FIELDS TERMINATED ESCAPED LINES "
    "STORED INPUTFORMAT OUTPUTFORMAT LOCATION TBLPROPERTIES DBPROPERTIES "
    "COMMENT MSCK REPAIR ALTER ADD DROP PARTITION CASCADE RESTRICT DESCRIBE "
    "FORMATTED EXTENDED EXPLAIN TEXTFILE PARQUET ORC AVRO AwsDataCatalog "
    "events users orders payload profile items attrs tags item qty inner "
    "sales default pg_catalog information_schema fl_lake :: -> $1 E' U&' "
    "X'0a' /* */ -- '' \"\" ` ( ) [ ] , ; || <> != <= >= => 's3://lake/t/'").split()]


def dictionaries():
    shapes = [("src", "shapes_glue.c"), ("src", "shapes_athena.c")]
    members = literals(*shapes, pattern=rb'\{ "([A-Za-z0-9]+)", &S\[')
    enums = set()
    for line in read(*shapes[0]).splitlines() + read(*shapes[1]).splitlines():
        if line.startswith(b"static const char *const E_"):
            enums |= set(re.findall(rb'"([^"]*)"', line))
    write_dict("awsshape", [b'"%s":' % w for w in members] + [b'"%s"' % w for w in enums] +
               [b"glue:", b"athena:", b'""', b"[]", b"{}", b"null", b"true", b"1e309",
                b"\\u0000", b"\\ud800", b"\\udc00", b"s3://lake/", b"arn:aws:glue:"])
    write_dict("firehose",
               [b'"%s":' % w for w in literals(("src", "firehose_shape.c"),
                                                ("src", "stream_conf.c"))] +
               [b"arn:aws:s3:::", b"arn:aws:iam::000000000000:role/", b"!{partitionKeyFromQuery:",
                b"!{timestamp:", b"!{firehose:error-output-type}", b"{k: .k}", b"JQ-1.6",
                b"PutRecordBatch", b"PutRecord", b'"Data":"', b'"Records":[', b"\\/", b"=="])
    write_dict("enrich", [b'"event_uuid":', b'"event_name":', b'"created_at":',
                          b'"created_datetime":', b'"event_type":', b'"event_subtype":',
                          b"\\u003a", b"\\u0000", b"1e9", b"253402300799.999", b"-0",
                          b"\\ud83d\\ude00", b"\xf4\x8f\xbf\xbf", b"\xed\xa0\x80"])
    write_dict("prefix", [b"!{timestamp:", b"!{firehose:random-string}",
                          b"!{firehose:error-output-type}", b"!{partitionKeyFromQuery:",
                          b"!{partitionKeyFromLambda:", b"}", b"E ", b"D ", b"yyyy", b"MM",
                          b"dd", b"HH", b"mm", b"ss", b"SSS", b"EEEE", b"MMMM", b"''", b"[",
                          b"]", b"'", b'"event_type":', b'"created_at":'])
    write_dict("glue_expr", [w.lower() for w in SQL_WORDS[:40]] + SQL_WORDS[:40] +
               [b"dt", b"year", b"price", b"day", b"ts", b"region", b"`event type`", b"flag",
                b"'2024-01-01'", b"'2024-01-01 10:00:00.5'", b"1.5e3", b"-0", b"(.*)+",
                b"{2,}", b"[[:alpha:]]", b"\\b", b":int", b":date", b":timestamp",
                b":decimal(10,2)", b":string,"])
    write_dict("athena_sql", SQL_WORDS)
    write_dict("sigv4", [b"AWS4-HMAC-SHA256", b"Credential=", b"SignedHeaders=", b"Signature=",
                         b"AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
                         b"host;x-amz-date", b"20150830T123600Z",
                         b"Sun, 30 Aug 2015 12:36:00 GMT", b"X-Amz-Algorithm=",
                         b"X-Amz-Credential=", b"X-Amz-Date=", b"X-Amz-SignedHeaders=",
                         b"X-Amz-Signature=", b"X-Amz-Expires=", b"%2F", b"%20", b"%",
                         b"/./", b"/../", b"//", b"&", b"=", b"aws4_request",
                         b"x-amz-content-sha256:", b"Host:"])


def main():
    os.chdir(ROOT)
    dictionaries()
    write("enrich", events())
    write("firehose", firehose())
    write("awsshape", awsshape())
    write("prefix", prefix())
    write("glue_expr", glue_expr())
    write("athena_sql", athena_sql())
    write("sigv4", sigv4())
    total = sum(os.path.getsize(os.path.join(dp, f))
                for dp, _, fs in os.walk(CORPUS) for f in fs)
    print(f"total {total} bytes")
    if total >= 1 << 20:
        sys.exit("the corpora must stay under 1 MiB")


if __name__ == "__main__":
    main()
