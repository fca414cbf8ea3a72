#!/usr/bin/env python3
"""Checks api/ examples against botocore's Firehose model.

For every operation firelake serves, api/firehose/<Op>.request.json must
pass botocore's own ParamValidator for the operation's input shape, and
both it and <Op>.response.json must pass a structural check against the
input / output shape: JSON types, required members, no unknown members,
enums, length and range limits, patterns, base64 blobs, epoch-second
timestamps.  api/errors/*.json must be the AWS JSON error shape
{"__type", "message"}.  When openapi.yaml is present (and PyYAML is
importable), the examples it embeds must equal these files.

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

OPERATIONS = [
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
TARGET_PREFIX = "Firehose_20150804."
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
    """AWS patterns are Java regexes; Python's re lacks \\p{..} classes."""
    return (pattern.replace(r"\p{L}", r"\w")
            .replace(r"\p{N}", r"\d")
            .replace(r"\p{Z}", r"\s"))


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


def check_operations(root, model, checker):
    folder = os.path.join(root, "api", "firehose")
    validator = ParamValidator()
    expected = set()
    examples = {}
    for op in OPERATIONS:
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
            checker.check(value, shape, f"{name} ({shape.name})")
            if kind == "request":
                report = validator.validate(value, shape)
                if report.has_errors():
                    checker.fail(name, "botocore: " + report.generate_report())
    if os.path.isdir(folder):
        for name in sorted(os.listdir(folder)):
            if name not in expected:
                checker.fail(os.path.join(folder, name),
                             "not an example of a served operation")
    return examples


def check_errors(root, model, checker):
    folder = os.path.join(root, "api", "errors")
    modelled = {n for n in model.shape_names
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
        if not isinstance(value, dict) or set(value) != {"__type", "message"}:
            checker.fail(path, 'expected exactly {"__type", "message"}')
            continue
        if not all(isinstance(v, str) and v for v in value.values()):
            checker.fail(path, "__type and message must be non-empty strings")
            continue
        if value["__type"] != stem:
            checker.fail(path, f"__type {value['__type']} is not {stem}")
        if stem not in modelled and stem not in PROTOCOL_ERRORS:
            checker.fail(path, f"{stem} is neither in the model nor a "
                               "protocol error")
        seen.add(stem)
    for missing in sorted(REQUIRED_ERRORS - seen):
        checker.fail(os.path.join(folder, missing + ".json"), "missing")


def check_openapi(root, examples, checker):
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
    for op in OPERATIONS:
        key = f"/#X-Amz-Target={TARGET_PREFIX}{op}"
        post = paths.get(key, {}).get("post")
        if not post:
            checker.fail(path, f"no POST {key}")
            continue
        got = {
            "request": post.get("requestBody", {}).get("content", {})
                           .get(JSON_CONTENT, {}).get("example"),
            "response": post.get("responses", {}).get("200", {})
                            .get("content", {}).get(JSON_CONTENT, {})
                            .get("example"),
        }
        for kind, value in got.items():
            want = examples.get((op, kind))
            if want is not None and value != want:
                checker.fail(path, f"{op} {kind} example differs from "
                                   f"api/firehose/{op}.{kind}.json")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_root = os.environ.get("FIRELAKE_SRC") or \
        os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=default_root,
                    help="repository root (default: %(default)s)")
    args = ap.parse_args()

    model = botocore.session.get_session().get_service_model("firehose")
    checker = Checker()
    examples = check_operations(args.root, model, checker)
    check_errors(args.root, model, checker)
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
