#!/usr/bin/env python3
"""Checks api/ examples against botocore's Firehose, Glue and Athena models.

For every operation firelake serves, api/<service>/<Op>.request.json must
pass botocore's own ParamValidator for the operation's input shape, and
both it and <Op>.response.json must pass a structural check against the
input / output shape: JSON types, required members, no unknown members,
enums, length and range limits, patterns, base64 blobs, epoch-second
timestamps.  api/errors/*.json must be the AWS JSON error shape
{"__type", "message"} (Glue and Athena write "Message") of an error that
a served service's model declares.  When openapi.yaml is present (and
PyYAML is importable), it must document every served operation of the
three services (and no other under their X-Amz-Target prefixes), and the
examples it embeds must equal these files.
Firehose's and Glue's operations are listed below; Athena's are those
whose examples api/athena/ holds (each must be an operation of the model
and have both files).

Usage: check_api_examples.py [--root DIR]   (default: the repository root)
Exits 1 on any mismatch, listing each one.
"""

import argparse
import base64
import binascii
import json
import os
import re
import sys

import botocore.session
from botocore.validate import ParamValidator

FIREHOSE_OPERATIONS = [
    "CreateDeliveryStream",
    "DescribeDeliveryStream",
    "ListDeliveryStreams",
    "DeleteDeliveryStream",
    "UpdateDestination",
    "PutRecord",
    "PutRecordBatch",
    "TagDeliveryStream",
    "UntagDeliveryStream",
    "ListTagsForDeliveryStream",
]
GLUE_OPERATIONS = [
    "CreateDatabase",
    "GetDatabase",
    "GetDatabases",
    "UpdateDatabase",
    "DeleteDatabase",
    "CreateTable",
    "GetTable",
    "GetTables",
    "UpdateTable",
    "DeleteTable",
    "BatchDeleteTable",
    "CreatePartition",
    "GetPartition",
    "GetPartitions",
    "BatchCreatePartition",
    "BatchDeletePartition",
    "BatchGetPartition",
    "UpdatePartition",
    "DeletePartition",
    # crawler.c
    "CreateCrawler",
    "GetCrawler",
    "GetCrawlers",
    "ListCrawlers",
    "UpdateCrawler",
    "DeleteCrawler",
    "StartCrawler",
    "StopCrawler",
    "GetCrawlerMetrics",
]
# botocore service name, api/ folder, X-Amz-Target prefix, operations
# (None: the operations whose examples the folder holds, each of which
# must be an operation of the model, with both files).
SERVICES = [
    ("firehose", "firehose", "Firehose_20150804.", FIREHOSE_OPERATIONS),
    ("glue", "glue", "AWSGlue.", GLUE_OPERATIONS),
    ("athena", "athena", "AmazonAthena.", None),
]
JSON_CONTENT = "application/x-amz-json-1.1"

# Errors that every AWS JSON 1.1 service answers although its model does
# not list them.
PROTOCOL_ERRORS = {
    "ValidationException",
    "UnknownOperationException",
    "SerializationException",
    "InternalFailure",
}
REQUIRED_ERRORS = {
    "ValidationException",
    "InvalidArgumentException",
    "ResourceNotFoundException",
    "ResourceInUseException",
    "ServiceUnavailableException",
    "UnknownOperationException",
}


def python_pattern(pattern):
    """AWS patterns are Java regexes; Python's re lacks \\p{..} classes and
    reads a surrogate pair (\\uD800\\uDC00-\\uDBFF\\uDFFF, Glue's
    single-line string) as two code units, where Java reads code points."""
    return (pattern.replace(r"\uD800\uDC00-\uDBFF\uDFFF", r"\U00010000-\U0010FFFF")
            .replace(r"\p{L}", r"\w")
            .replace(r"\p{N}", r"\d")
            .replace(r"\p{Z}", r"\s")
            .replace(r"\p{P}", r"!-/:-@\[-`{-~"))


class Checker:
    def __init__(self):
        self.problems = []

    def fail(self, where, text):
        self.problems.append(f"{where}: {text}")

    def check(self, value, shape, where):
        """Structural check of a JSON value against a botocore shape."""
        t = shape.type_name
        meta = shape.metadata
        if t == "structure":
            if not isinstance(value, dict):
                return self.fail(where, f"expected an object for {shape.name}")
            for name in shape.required_members:
                if name not in value:
                    self.fail(where, f"missing required member {name}")
            for name, v in value.items():
                if name not in shape.members:
                    self.fail(where, f"unknown member {name} of {shape.name}")
                    continue
                self.check(v, shape.members[name], f"{where}.{name}")
        elif t == "list":
            if not isinstance(value, list):
                return self.fail(where, "expected an array")
            self.limits(len(value), meta, where, "items")
            for i, v in enumerate(value):
                self.check(v, shape.member, f"{where}[{i}]")
        elif t == "map":
            if not isinstance(value, dict):
                return self.fail(where, "expected an object (map)")
            self.limits(len(value), meta, where, "entries")
            for k, v in value.items():
                self.check(k, shape.key, f"{where} key {k!r}")
                self.check(v, shape.value, f"{where}[{k!r}]")
        elif t == "string":
            if not isinstance(value, str):
                return self.fail(where, "expected a string")
            self.limits(len(value), meta, where, "characters")
            if "enum" in meta and value not in meta["enum"]:
                self.fail(where, f"{value!r} not one of {meta['enum']}")
            pattern = meta.get("pattern")
            if pattern and not re.fullmatch(python_pattern(pattern), value,
                                            re.DOTALL):
                self.fail(where, f"{value!r} does not match {pattern}")
        elif t in ("integer", "long"):
            if not isinstance(value, int) or isinstance(value, bool):
                return self.fail(where, "expected an integer")
            if "min" in meta and value < meta["min"]:
                self.fail(where, f"{value} is below {meta['min']}")
            if "max" in meta and value > meta["max"]:
                self.fail(where, f"{value} is above {meta['max']}")
        elif t in ("double", "float"):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                self.fail(where, "expected a number")
        elif t == "boolean":
            if not isinstance(value, bool):
                self.fail(where, "expected true or false")
        elif t == "timestamp":
            # AWS JSON 1.1 sends timestamps as epoch seconds.
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                self.fail(where, "expected epoch seconds (a number)")
        elif t == "blob":
            if not isinstance(value, str):
                return self.fail(where, "expected a base64 string")
            try:
                raw = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return self.fail(where, "not valid base64")
            self.limits(len(raw), meta, where, "bytes")
        else:
            self.fail(where, f"shape type {t} not handled")

    def limits(self, n, meta, where, unit):
        if "min" in meta and n < meta["min"]:
            self.fail(where, f"{n} {unit}, at least {meta['min']} required")
        if "max" in meta and n > meta["max"]:
            self.fail(where, f"{n} {unit}, at most {meta['max']} allowed")


def load_json(path, checker):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        checker.fail(path, f"cannot load: {e}")
        return None


def folder_operations(folder, model, checker):
    """The operations of the examples in folder (for a service whose
    list is not fixed here)."""
    ops = set()
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    for name in names:
        op, _, kind = name.rpartition(".json")[0].rpartition(".")
        if kind not in ("request", "response") or \
                op not in model.operation_names:
            checker.fail(os.path.join(folder, name),
                         "not an example of an operation of the model")
            continue
        ops.add(op)
    return sorted(ops)


def check_operations(root, service, model, checker):
    _, folder_name, _, operations = service
    folder = os.path.join(root, "api", folder_name)
    if operations is None:
        operations = folder_operations(folder, model, checker)
    validator = ParamValidator()
    expected = set()
    examples = {}
    for op in operations:
        om = model.operation_model(op)
        for kind, shape in (("request", om.input_shape),
                            ("response", om.output_shape)):
            name = f"{op}.{kind}.json"
            expected.add(name)
            path = os.path.join(folder, name)
            if not os.path.exists(path):
                checker.fail(path, "missing")
                continue
            value = load_json(path, checker)
            if value is None:
                continue
            examples[(op, kind)] = value
            where = f"{folder_name}/{name} ({shape.name})" if shape else name
            if shape is None:
                if value != {}:
                    checker.fail(name, "the operation has no members: expected {}")
                continue
            checker.check(value, shape, where)
            if kind == "request":
                report = validator.validate(value, shape)
                if report.has_errors():
                    checker.fail(name, "botocore: " + report.generate_report())
    if os.path.isdir(folder) and service[3] is not None:
        for name in sorted(os.listdir(folder)):
            if name not in expected:
                checker.fail(os.path.join(folder, name),
                             "not an example of a served operation")
    return examples


def check_errors(root, models, checker):
    folder = os.path.join(root, "api", "errors")
    modelled = {n for model in models for n in model.shape_names
                if model.shape_for(n).metadata.get("exception")}
    seen = set()
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    for name in names:
        path = os.path.join(folder, name)
        if not name.endswith(".json"):
            checker.fail(path, "not a .json error example")
            continue
        value = load_json(path, checker)
        if value is None:
            continue
        stem = name[:-len(".json")]
        if not isinstance(value, dict) or set(value) not in (
                {"__type", "message"}, {"__type", "Message"}):
            checker.fail(path, 'expected exactly {"__type", "message"} '
                               '(or "Message")')
            continue
        if not all(isinstance(v, str) and v for v in value.values()):
            checker.fail(path, "__type and message must be non-empty strings")
            continue
        if value["__type"] != stem:
            checker.fail(path, f"__type {value['__type']} is not {stem}")
        if stem not in modelled and stem not in PROTOCOL_ERRORS:
            checker.fail(path, f"{stem} is neither in a model nor a "
                               "protocol error")
        seen.add(stem)
    for missing in sorted(REQUIRED_ERRORS - seen):
        checker.fail(os.path.join(folder, missing + ".json"), "missing")


def check_openapi(root, examples, checker):
    """examples: {(service, op, kind): value}."""
    path = os.path.join(root, "openapi.yaml")
    if not os.path.exists(path):
        return
    try:
        import yaml
    except ImportError:
        print("check_api_examples: PyYAML missing, openapi.yaml not compared")
        return
    with open(path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    paths = spec.get("paths", {})
    for service in SERVICES:
        _, folder_name, prefix, operations = service
        marker = f"/#X-Amz-Target={prefix}"
        if operations is None:
            operations = sorted({op for (svc, op, _) in examples if svc == folder_name})
        for key in sorted(paths):
            if key.startswith(marker) and key[len(marker):] not in operations:
                checker.fail(path, f"{key} documents an operation without "
                                   f"examples in api/{folder_name}/ "
                                   "(regenerate: scripts/gen-openapi.py)")
        for op in operations:
            key = marker + op
            post = (paths.get(key) or {}).get("post")
            if not post:
                checker.fail(path, f"no POST {key} (regenerate: "
                                   "scripts/gen-openapi.py)")
                continue
            got = {
                "request": post.get("requestBody", {}).get("content", {})
                               .get(JSON_CONTENT, {}).get("example"),
                "response": post.get("responses", {}).get("200", {})
                                .get("content", {}).get(JSON_CONTENT, {})
                                .get("example"),
            }
            for kind, value in got.items():
                want = examples.get((folder_name, op, kind))
                if want is not None and value != want:
                    checker.fail(path, f"{op} {kind} example differs from "
                                       f"api/{folder_name}/{op}.{kind}.json "
                                       "(regenerate: scripts/gen-openapi.py)")
        compared = sum(1 for op in operations if marker + op in paths)
        print(f"check_api_examples: openapi.yaml: {compared} {folder_name} "
              "operations compared")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_root = os.environ.get("FIRELAKE_SRC") or \
        os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=default_root,
                    help="repository root (default: %(default)s)")
    args = ap.parse_args()

    session = botocore.session.get_session()
    checker = Checker()
    examples, models = {}, []
    for service in SERVICES:
        model = session.get_service_model(service[0])
        models.append(model)
        for (op, kind), value in check_operations(args.root, service, model,
                                                  checker).items():
            examples[(service[1], op, kind)] = value
    check_errors(args.root, models, checker)
    check_openapi(args.root, examples, checker)

    for p in checker.problems:
        print(f"FAIL {p}")
    n = len(examples)
    print(f"check_api_examples: {n} operation examples, "
          f"{len(checker.problems)} problems "
          f"(botocore {botocore.__version__})")
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main())
