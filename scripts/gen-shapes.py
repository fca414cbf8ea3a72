#!/usr/bin/env python3
"""Writes src/shapes_glue.c and src/shapes_athena.c: the botocore shapes
that firelake validates Glue and Athena requests against (awsshape.h).

For each service, every shape reachable from the input shapes of the
operations below becomes one node of a static array (src/awsshape_model.h
draws the node); structures point at their members' nodes, lists at their
member's, maps at their key's and value's.  The operation table is sorted
by name (fl_awsshape_find searches it).  Patterns awsshape.c implements
are named by their exact text in KNOWN_PATTERNS; any other pattern is
written as FL_AWSSHAPE_PAT_UNCHECKED, its text kept for readers.

The output is committed.  Rerun after changing the operations or
upgrading botocore; --check only compares a fresh run with the files.

Usage: scripts/gen-shapes.py [--root DIR] [--botocore-data DIR] [--check]
"""

import argparse
import gzip
import json
import os
import sys

# The operations firelake serves, per service: (service, model version,
# output file, C name of the op table, operations).
SERVICES = [
    ("glue", "2017-03-31", "src/shapes_glue.c", "fl_glue_ops", [
        "CreateDatabase", "GetDatabase", "GetDatabases", "UpdateDatabase",
        "DeleteDatabase",
        "CreateTable", "GetTable", "GetTables", "UpdateTable", "DeleteTable",
        "BatchDeleteTable",
        "CreatePartition", "GetPartition", "GetPartitions",
        "BatchCreatePartition", "BatchDeletePartition", "BatchGetPartition",
        "UpdatePartition", "DeletePartition",
        "CreateCrawler", "GetCrawler", "GetCrawlers", "ListCrawlers",
        "UpdateCrawler", "DeleteCrawler", "StartCrawler", "StopCrawler",
        "GetCrawlerMetrics",
    ]),
    ("athena", "2017-05-18", "src/shapes_athena.c", "fl_athena_ops", [
        "StartQueryExecution", "GetQueryExecution", "GetQueryResults",
        "StopQueryExecution", "ListQueryExecutions", "BatchGetQueryExecution",
        "GetQueryRuntimeStatistics",
        "CreateWorkGroup", "GetWorkGroup", "ListWorkGroups", "UpdateWorkGroup",
        "DeleteWorkGroup",
        "CreateNamedQuery", "GetNamedQuery", "ListNamedQueries",
        "BatchGetNamedQuery", "UpdateNamedQuery", "DeleteNamedQuery",
        "ListDataCatalogs", "GetDataCatalog", "ListDatabases", "GetDatabase",
        "ListTableMetadata", "GetTableMetadata",
    ]),
]

# Pattern texts (as the models spell them) -> enum fl_awsshape_pattern
# suffix.  awsshape.c implements each of these.
KNOWN_PATTERNS = {
    "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*": "GLUE_LINE",
    "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*": "GLUE_TEXT",
    "arn:aws(-(cn|us-gov|iso(-[bef])?))?:glue:.*": "GLUE_ARN",
    "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}": "UUID",
    "[a-zA-Z0-9-_$#.]+": "REGISTRY_NAME",
    "[\\p{L}\\p{N}\\p{P}]*": "LETTERS_PUNCT",
    "[a-zA-Z0-9._-]{1,128}": "WORKGROUP",
    "^[a-zA-Z0-9._/-]+$": "LOG_GROUP",
    "^[0-9]+$": "DIGITS",
    "^[^:*]*$": "LOG_STREAM",
    "\\S+": "NOT_SPACE",
    "^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$": "IAM_ROLE_ARN",
    "^s3://[a-z0-9][a-z0-9\\-]*[a-z0-9](/.*)?$": "S3_URI",
    "^arn:aws[a-z\\-]*:kms:([a-z0-9\\-]+):\\d{12}:key/?[a-zA-Z_0-9+=,.@\\-_/]+$"
    "|^arn:aws[a-z\\-]*:kms:([a-z0-9\\-]+):\\d{12}:alias/?[a-zA-Z_0-9+=,.@\\-_/]+$"
    "|^alias/[a-zA-Z0-9/_-]+$"
    "|[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}": "KMS_KEY",
    "^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?"
    "ins-[a-zA-Z0-9-.]{16}$": "SSO_INSTANCE_ARN",
}

KINDS = {
    "structure": "STRUCTURE", "list": "LIST", "map": "MAP", "string": "STRING",
    "integer": "INTEGER", "long": "LONG", "double": "DOUBLE", "float": "DOUBLE",
    "boolean": "BOOLEAN", "timestamp": "TIMESTAMP", "blob": "BLOB",
}


def fail(msg):
    sys.exit("gen-shapes: " + msg)


def botocore_data_dir():
    import botocore
    return os.path.join(os.path.dirname(botocore.__file__), "data")


def botocore_version():
    try:
        import botocore
        return botocore.__version__
    except ImportError:
        return "unknown"


def load_model(data_dir, service, version):
    base = os.path.join(data_dir, service, version, "service-2.json")
    if os.path.exists(base):
        with open(base, encoding="utf-8") as f:
            return json.load(f)
    if os.path.exists(base + ".gz"):
        with gzip.open(base + ".gz", "rt", encoding="utf-8") as f:
            return json.load(f)
    fail("no model at %s(.gz)" % base)


def reachable(shapes, roots):
    """Names of the shapes reachable from roots, sorted."""
    seen = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        if name not in shapes:
            fail("shape %s is not in the model" % name)
        seen.add(name)
        s = shapes[name]
        if s.get("document"):
            continue
        for k in ("member", "key", "value"):
            if k in s:
                stack.append(s[k]["shape"])
        for m in s.get("members", {}).values():
            stack.append(m["shape"])
    return sorted(seen)


def c_string(text):
    """text as a C string literal (backslashes doubled: "\\u0020" must not
    become a universal character name; no trigraphs)."""
    out = ['"']
    prev = ""
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "?" and prev == "?":
            out.append("\\?")
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            for b in ch.encode("utf-8"):
                out.append("\\%03o" % b)
        prev = ch
    out.append('"')
    return "".join(out)


def bound(shape_name, s, key):
    v = s[key]
    if isinstance(v, float):
        if not v.is_integer():
            fail("%s: %s %r is not integral" % (shape_name, key, v))
        v = int(v)
    return v


def generate(model, service, version, out_path, ops_name, ops):
    shapes = model["shapes"]
    operations = model["operations"]
    roots = []
    for op in ops:
        if op not in operations:
            fail("%s has no operation %s" % (service, op))
        if "input" in operations[op]:
            roots.append(operations[op]["input"]["shape"])
    names = reachable(shapes, roots)

    patterns = {}       # text -> C constant name
    unchecked = 0
    for n in names:
        text = shapes[n].get("pattern")
        if text is None or text in patterns:
            continue
        if text in KNOWN_PATTERNS:
            patterns[text] = "PAT_" + KNOWN_PATTERNS[text]
        else:
            unchecked += 1
            patterns[text] = "PAT_UNCHECKED_%d" % unchecked

    o = []
    w = o.append
    fname = os.path.basename(out_path)
    w("/*")
    w(" * %s - generated by scripts/gen-shapes.py, do not edit." % fname)
    w(" *")
    w(" * botocore %s, model %s %s: the shapes reachable from the input"
      % (botocore_version(), service, version))
    w(" * shapes of the operations firelake serves (awsshape.h), and those")
    w(" * operations sorted by name.  Nodes are drawn in awsshape_model.h.")
    w(" */")
    w('#include "awsshape_model.h"')
    w("")
    w("#define ELEM(s) .elem = &S[s]")
    w("#define MAP(k, v) .key = &S[k], .elem = &S[v]")
    w("#define MIN(v) FL_AWSSHAPE_MIN(v)")
    w("#define MAX(v) FL_AWSSHAPE_MAX(v)")
    w("#define PATTERN(id, text) FL_AWSSHAPE_PATTERN(id, text)")
    w("#define ENUM(list) FL_AWSSHAPE_ENUM(list)")
    w("#define MEMBERS(list) FL_AWSSHAPE_MEMBERS(list)")
    w("")
    w("enum {")
    for n in names:
        w("\tSH_%s," % n)
    w("\tSHAPE_COUNT")
    w("};")
    w("")
    w("static const struct fl_awsshape S[SHAPE_COUNT];")
    w("")
    for text, cname in sorted(patterns.items(), key=lambda kv: kv[1]):
        w("static const char %s[] = %s;" % (cname, c_string(text)))
    w("")
    for n in names:
        s = shapes[n]
        if "enum" in s:
            vals = ", ".join(c_string(v) for v in s["enum"])
            w("static const char *const E_%s[] = { %s, NULL };" % (n, vals))
    w("")
    for n in names:
        s = shapes[n]
        if s["type"] != "structure" or s.get("document") or not s.get("members"):
            continue
        required = set(s.get("required", []))
        for r in required:
            if r not in s["members"]:
                fail("%s: required %s is not a member" % (n, r))
        w("static const struct fl_awsshape_member M_%s[] = {" % n)
        for mname, m in s["members"].items():
            w('\t{ %s, &S[SH_%s], %s },' % (c_string(mname), m["shape"],
                                             "true" if mname in required else "false"))
        w("};")
    w("")
    w("static const struct fl_awsshape S[SHAPE_COUNT] = {")
    for n in names:
        s = shapes[n]
        t = s["type"]
        if s.get("document"):
            kind = "DOCUMENT"
        elif t in KINDS:
            kind = KINDS[t]
        else:
            fail("%s: type %s is not supported" % (n, t))
        parts = ['"%s"' % n, "FL_AWSSHAPE_" + kind]
        if kind == "DOCUMENT":
            pass
        elif t == "structure":
            # A union is walked as a structure: AWS's one-member rule
            # is the operation's business.
            if s.get("members"):
                parts.append("MEMBERS(M_%s)" % n)
        elif t == "list":
            parts.append("ELEM(SH_%s)" % s["member"]["shape"])
        elif t == "map":
            parts.append("MAP(SH_%s, SH_%s)" % (s["key"]["shape"], s["value"]["shape"]))
        if "min" in s and kind != "DOCUMENT":
            parts.append("MIN(%d)" % bound(n, s, "min"))
        if "max" in s and kind != "DOCUMENT":
            parts.append("MAX(%d)" % bound(n, s, "max"))
        if "pattern" in s:
            cname = patterns[s["pattern"]]
            pid = "UNCHECKED" if cname.startswith("PAT_UNCHECKED") else cname[4:]
            parts.append("PATTERN(%s, %s)" % (pid, cname))
        if "enum" in s:
            parts.append("ENUM(E_%s)" % n)
        w("\t[SH_%s] = { %s }," % (n, ", ".join(parts)))
    w("};")
    w("")
    w("const struct fl_awsshape_op %s[] = {" % ops_name)
    for op in sorted(ops):
        inp = operations[op].get("input")
        target = "&S[SH_%s]" % inp["shape"] if inp else "NULL"
        w('\t{ "%s", %s },' % (op, target))
    w("};")
    w("")
    w("const size_t %s_count = sizeof %s / sizeof %s[0];" % (ops_name[:-4] + "_op",
                                                             ops_name, ops_name))
    return "\n".join(o) + "\n"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.dirname(here), help="the firelake tree")
    ap.add_argument("--botocore-data", default=None, help="botocore's data directory")
    ap.add_argument("--check", action="store_true",
                    help="compare with the committed files, write nothing")
    args = ap.parse_args()
    data_dir = args.botocore_data or botocore_data_dir()
    stale = []
    for service, version, out, ops_name, ops in SERVICES:
        if len(set(ops)) != len(ops):
            fail("%s: an operation is listed twice" % service)
        text = generate(load_model(data_dir, service, version), service, version,
                        out, ops_name, ops)
        path = os.path.join(args.root, out)
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    if f.read() != text:
                        stale.append(out)
            except FileNotFoundError:
                stale.append(out)
            continue
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
    if stale:
        sys.exit("gen-shapes: stale: " + ", ".join(stale))


if __name__ == "__main__":
    main()
