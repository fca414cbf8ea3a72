#!/usr/bin/env python3
"""Writes openapi.yaml: firelake's HTTP surface as OpenAPI 3.0.

The Firehose request and response schemas are converted from botocore's
service model (the same model boto3 and the aws cli use), restricted to
what firelake serves: direct-put streams with S3 / extended S3
destinations.  Examples are embedded from api/ so the document and the
examples cannot drift (tests/integration/check_api_examples.py compares
them).

AWS JSON 1.1 sends every operation as POST / and names it in the
X-Amz-Target header.  OpenAPI keys operations by path, so each one is
listed under "/#X-Amz-Target=Firehose_20150804.<Op>": the fragment is
never sent; the request is POST / with that header.

Usage: scripts/gen-openapi.py [--root DIR]   (writes DIR/openapi.yaml)
Needs botocore and PyYAML.
"""

import argparse
import html
import json
import os
import re
import sys

import botocore
import botocore.session
import yaml

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

# Members of the AWS model that firelake does not serve: other
# destinations, other sources, server-side encryption of the stream.
UNSERVED_PREFIXES = (
    "Redshift", "Elasticsearch", "Amazonopensearchservice",
    "AmazonOpenSearchServerless", "Splunk", "HttpEndpoint", "Snowflake",
    "Iceberg", "MSKSource", "KinesisStreamSource", "DatabaseSource",
    "DeliveryStreamEncryptionConfigurationInput",
)

# Errors that AWS JSON 1.1 services answer beyond those their model lists,
# and the status of every error firelake answers (as src/awserr.c maps).
PROTOCOL_ERRORS = ["ValidationException", "SerializationException",
                   "UnknownOperationException"]
# Modelled errors that firelake never answers (no KMS, no Kinesis source).
NEVER_ANSWERED = {"InvalidKMSResourceException", "InvalidSourceException"}
STATUS = {
    "ServiceUnavailableException": 503,
    "InternalFailure": 500,
}


def doc_text(doc, limit=400):
    """First paragraph of botocore's HTML doc, as plain text."""
    if not doc:
        return None
    first = re.split(r"</p>", doc, maxsplit=1)[0]
    text = html.unescape(re.sub(r"<[^>]+>", "", first))
    text = " ".join(text.split())
    if len(text) > limit:
        cut = text.rfind(". ", 0, limit)
        text = text[:cut + 1] if cut > 0 else text[:limit].rstrip() + "..."
    return text or None


def served(member_name):
    return not member_name.startswith(UNSERVED_PREFIXES)


class Converter:
    def __init__(self, model):
        self.model = model
        self.schemas = {}

    def ref(self, shape):
        """A schema for shape: a $ref for structures, inline otherwise."""
        if shape.type_name == "structure":
            if shape.name not in self.schemas:
                self.schemas[shape.name] = None  # recursion guard
                self.schemas[shape.name] = self.structure(shape)
            return {"$ref": f"#/components/schemas/{shape.name}"}
        return self.scalar(shape)

    def structure(self, shape):
        props = {}
        dropped = []
        for name, member in shape.members.items():
            if not served(name):
                dropped.append(name)
                continue
            schema = self.ref(member)
            doc = doc_text(member.documentation)
            if doc:
                if "$ref" in schema:
                    schema = {"allOf": [schema], "description": doc}
                elif "description" in schema:
                    schema = dict(schema, description=f"{doc} {schema['description']}")
                else:
                    schema = dict(schema, description=doc)
            props[name] = schema
        out = {"type": "object"}
        doc = doc_text(shape.documentation)
        if dropped:
            note = ("firelake does not serve " + ", ".join(dropped) +
                    " (members of the AWS model left out here).")
            doc = f"{doc} {note}" if doc else note
        if doc:
            out["description"] = doc
        required = [r for r in shape.required_members if r in props]
        if required:
            out["required"] = required
        out["properties"] = props
        return out

    def scalar(self, shape):
        t = shape.type_name
        meta = shape.metadata
        if t == "list":
            out = {"type": "array", "items": self.ref(shape.member)}
            if "min" in meta:
                out["minItems"] = meta["min"]
            if "max" in meta:
                out["maxItems"] = meta["max"]
            return out
        if t == "map":
            return {"type": "object", "additionalProperties": self.ref(shape.value)}
        if t == "string":
            out = {"type": "string"}
            if "enum" in meta:
                out["enum"] = list(meta["enum"])
            if meta.get("min"):
                out["minLength"] = meta["min"]
            if "max" in meta:
                out["maxLength"] = meta["max"]
            pattern = meta.get("pattern")
            if pattern and pattern not in (".*", "^.*$"):
                try:
                    re.compile(pattern)
                    out["pattern"] = pattern
                except re.error:
                    # Java classes such as \p{L}: not a portable regex.
                    out["description"] = f"Pattern (Java regex): {pattern}"
            return out
        if t in ("integer", "long"):
            out = {"type": "integer",
                   "format": "int32" if t == "integer" else "int64"}
            if "min" in meta:
                out["minimum"] = meta["min"]
            if "max" in meta:
                out["maximum"] = meta["max"]
            return out
        if t in ("double", "float"):
            return {"type": "number", "format": t}
        if t == "boolean":
            return {"type": "boolean"}
        if t == "timestamp":
            return {"type": "number", "format": "double",
                    "description": "Seconds since the Unix epoch (UTC)."}
        if t == "blob":
            out = {"type": "string", "format": "byte",
                   "description": "Base64 of the bytes."}
            if "max" in meta:
                out["description"] += f" At most {meta['max']} bytes decoded."
            return out
        raise ValueError(f"unhandled shape type {t} ({shape.name})")


def load(root, *parts):
    with open(os.path.join(root, *parts), encoding="utf-8") as f:
        return json.load(f)


def error_examples(root, names):
    out = {}
    for n in names:
        path = os.path.join(root, "api", "errors", n + ".json")
        if os.path.exists(path):
            out[n] = {"value": load(root, "api", "errors", n + ".json")}
    return out


def operation(root, model, conv, op):
    om = model.operation_model(op)
    errors = [e.name for e in om.error_shapes
              if e.name not in NEVER_ANSWERED] + PROTOCOL_ERRORS
    client = [e for e in errors if STATUS.get(e, 400) == 400]
    desc = doc_text(om.documentation, 600) or op
    responses = {
        "200": {
            "description": "Success.",
            "headers": {"x-amzn-RequestId": {"$ref": "#/components/headers/RequestId"}},
            "content": {JSON_CONTENT: {
                "schema": conv.ref(om.output_shape),
                "example": load(root, "api", "firehose", f"{op}.response.json"),
            }},
        },
        "400": {
            "description": "The request was refused. `__type` is one of: " +
                           ", ".join(client) + ".",
            "headers": {
                "x-amzn-RequestId": {"$ref": "#/components/headers/RequestId"},
                "x-amzn-ErrorType": {"$ref": "#/components/headers/ErrorType"},
            },
            "content": {JSON_CONTENT: {
                "schema": {"$ref": "#/components/schemas/AwsError"},
                "examples": error_examples(root, client),
            }},
        },
        "500": {"$ref": "#/components/responses/InternalFailure"},
        "503": {"$ref": "#/components/responses/ServiceUnavailable"},
    }
    return {
        "post": {
            "tags": ["Firehose"],
            "operationId": op,
            "summary": f"{op} (X-Amz-Target: {TARGET_PREFIX}{op})",
            "description": desc + f"\n\nSent as `POST /` with `X-Amz-Target: "
                                  f"{TARGET_PREFIX}{op}`.",
            "parameters": [{
                "name": "X-Amz-Target",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "enum": [TARGET_PREFIX + op]},
            }, {"$ref": "#/components/parameters/ContentType"}],
            "requestBody": {
                "required": True,
                "content": {JSON_CONTENT: {
                    "schema": conv.ref(om.input_shape),
                    "example": load(root, "api", "firehose", f"{op}.request.json"),
                }},
            },
            "responses": responses,
        }
    }


HEALTH_EXAMPLE = {
    "status": "ok",
    "postgres": "ok",
    "storage": "ok",
    "wal": {"state": "ok", "pending_bytes": 1048576, "budget_bytes": 4294967296},
}

METRICS_EXAMPLE = """\
# HELP firelake_incoming_records_total Records acknowledged.
# TYPE firelake_incoming_records_total counter
firelake_incoming_records_total{stream="events"} 1042
# HELP firelake_objects_delivered_total Objects stored.
# TYPE firelake_objects_delivered_total counter
firelake_objects_delivered_total{stream="events"} 7
# HELP firelake_wal_pending_bytes Bytes in the WAL not yet delivered.
# TYPE firelake_wal_pending_bytes gauge
firelake_wal_pending_bytes 1048576
# HELP firelake_request_duration_seconds API request latency, receipt to answer.
# TYPE firelake_request_duration_seconds histogram
firelake_request_duration_seconds_bucket{le="0.001"} 980
firelake_request_duration_seconds_bucket{le="+Inf"} 1050
firelake_request_duration_seconds_sum 0.912
firelake_request_duration_seconds_count 1050
"""


def document(root):
    model = botocore.session.get_session().get_service_model("firehose")
    conv = Converter(model)
    paths = {}
    for op in OPERATIONS:
        paths[f"/#X-Amz-Target={TARGET_PREFIX}{op}"] = operation(root, model, conv, op)

    health_schema = {
        "type": "object",
        "required": ["status", "postgres", "storage", "wal"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded", "full"],
                       "description": "ok; degraded when PostgreSQL or storage "
                                      "fails (ingest still acknowledges to the "
                                      "WAL); full when the WAL budget is used up "
                                      "(ingest is refused)."},
            "postgres": {"type": "string", "enum": ["ok", "unavailable"]},
            "storage": {"type": "string", "enum": ["ok", "failing"]},
            "wal": {
                "type": "object",
                "required": ["state", "pending_bytes", "budget_bytes"],
                "properties": {
                    "state": {"type": "string", "enum": ["ok", "full"]},
                    "pending_bytes": {"type": "integer", "format": "int64",
                                      "description": "WAL bytes not yet delivered."},
                    "budget_bytes": {"type": "integer", "format": "int64",
                                     "description": "--wal-budget."},
                },
            },
        },
    }
    paths["/health"] = {
        "get": {
            "tags": ["Operations"],
            "operationId": "Health",
            "summary": "Liveness and dependency state",
            "description": "Also answers HEAD. 200 while ingest is accepted "
                           "(status ok or degraded), 503 when the WAL is full.",
            "responses": {
                "200": {"description": "Accepting ingest.",
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Health"},
                            "example": HEALTH_EXAMPLE}}},
                "503": {"description": "WAL budget used up: ingest is refused.",
                        "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Health"},
                            "example": dict(HEALTH_EXAMPLE, status="full", wal={
                                "state": "full", "pending_bytes": 4294967296,
                                "budget_bytes": 4294967296})}}},
            },
        }
    }
    paths["/metrics"] = {
        "get": {
            "tags": ["Operations"],
            "operationId": "Metrics",
            "summary": "Prometheus metrics",
            "description": "Prometheus text exposition format 0.0.4: per-stream "
                           "counters, WAL gauges, request latency. Also answers HEAD.",
            "responses": {
                "200": {"description": "The metrics.",
                        "content": {"text/plain; version=0.0.4": {
                            "schema": {"type": "string"},
                            "example": METRICS_EXAMPLE}}},
            },
        }
    }

    schemas = {
        "AwsError": {
            "type": "object",
            "description": "The AWS JSON 1.1 error shape. The same name is in the "
                           "x-amzn-ErrorType header.",
            "required": ["__type", "message"],
            "properties": {
                "__type": {"type": "string", "example": "ResourceNotFoundException"},
                "message": {"type": "string"},
            },
        },
        "Health": health_schema,
    }
    schemas.update(sorted(conv.schemas.items()))

    return {
        "openapi": "3.0.3",
        "info": {
            "title": "firelake",
            "version": "0.1.0",
            "license": {"name": "Apache-2.0"},
            "description": (
                "A self-hosted data lake that speaks the Amazon Kinesis Data "
                "Firehose API. Unmodified AWS clients work with `--endpoint-url`.\n\n"
                "AWS JSON 1.1: every Firehose operation is `POST /` with "
                "`Content-Type: application/x-amz-json-1.1` and "
                "`X-Amz-Target: Firehose_20150804.<Operation>`. The paths "
                "`/#X-Amz-Target=...` below only tell the operations apart; the "
                "fragment is never sent. Errors are `{\"__type\", \"message\"}` "
                "with the status AWS uses: 400 for client errors, 500 "
                "InternalFailure, 503 ServiceUnavailableException (retry).\n\n"
                "Request and response schemas are converted from botocore "
                f"{botocore.__version__}'s model of Firehose 2015-08-04 "
                "(scripts/gen-openapi.py), restricted to what firelake serves: "
                "DirectPut streams with S3 or extended S3 destinations. "
                "Examples are the files under api/."),
        },
        "servers": [{"url": "http://127.0.0.1:4599",
                     "description": "firelake serve (default --listen)"}],
        "tags": [
            {"name": "Firehose", "description": "Kinesis Data Firehose API (AWS JSON 1.1)."},
            {"name": "Operations", "description": "Health and metrics."},
        ],
        "security": [{}, {"sigv4": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "sigv4": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "AWS Signature Version 4, as every AWS SDK "
                                   "signs (service firehose).",
                },
            },
            "parameters": {
                "ContentType": {
                    "name": "Content-Type",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "enum": [JSON_CONTENT]},
                },
            },
            "headers": {
                "RequestId": {"description": "Identifies the request in firelake's log.",
                              "schema": {"type": "string", "format": "uuid"}},
                "ErrorType": {"description": "The error's __type.",
                              "schema": {"type": "string"}},
            },
            "responses": {
                "InternalFailure": {
                    "description": "firelake failed; the request may be retried.",
                    "headers": {"x-amzn-RequestId": {"$ref": "#/components/headers/RequestId"},
                                "x-amzn-ErrorType": {"$ref": "#/components/headers/ErrorType"}},
                    "content": {JSON_CONTENT: {
                        "schema": {"$ref": "#/components/schemas/AwsError"},
                        "example": {"__type": "InternalFailure",
                                    "message": "Internal failure"}}},
                },
                "ServiceUnavailable": {
                    "description": "ServiceUnavailableException: load shed (WAL "
                                   "budget used up) or a dependency down. Retry "
                                   "with backoff.",
                    "headers": {"x-amzn-RequestId": {"$ref": "#/components/headers/RequestId"},
                                "x-amzn-ErrorType": {"$ref": "#/components/headers/ErrorType"}},
                    "content": {JSON_CONTENT: {
                        "schema": {"$ref": "#/components/schemas/AwsError"},
                        "examples": error_examples(root, ["ServiceUnavailableException"])}},
                },
            },
            "schemas": schemas,
        },
    }


class Dumper(yaml.SafeDumper):
    """Block style, long strings folded by width, no aliases."""

    def ignore_aliases(self, data):
        return True


def str_presenter(dumper, data):
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


Dumper.add_representer(str, str_presenter)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(here))
    args = ap.parse_args()
    doc = document(args.root)
    text = ("# Generated by scripts/gen-openapi.py from botocore's Firehose model\n"
            "# and the examples under api/. Edit those, then regenerate.\n" +
            yaml.dump(doc, Dumper=Dumper, sort_keys=False, width=100,
                      allow_unicode=True))
    with open(os.path.join(args.root, "openapi.yaml"), "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
