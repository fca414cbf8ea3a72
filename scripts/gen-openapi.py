#!/usr/bin/env python3
"""Writes openapi.yaml: firelake's HTTP surface as OpenAPI 3.0.

firelake serves three AWS JSON 1.1 APIs over the same POST /: Kinesis
Data Firehose, AWS Glue (the Data Catalog and crawlers) and Amazon
Athena.  Their request and response schemas are converted from
botocore's service models (the same models boto3 and the aws cli use),
restricted to the shapes reachable from the operations firelake serves,
and for Firehose to what it serves: direct-put streams with S3 /
extended S3 destinations.  Examples are embedded from api/ so the
document and the examples cannot drift
(tests/integration/check_api_examples.py compares them).

The operations: Firehose's are listed below; Glue's and Athena's are
those whose examples api/glue/ and api/athena/ hold, so adding
<Op>.request.json and <Op>.response.json there adds the operation.

AWS JSON 1.1 sends every operation as POST / and names it in the
X-Amz-Target header.  OpenAPI keys operations by path, so each one is
listed under "/#X-Amz-Target=<prefix><Op>": the fragment is never sent;
the request is POST / with that header.  Schemas are named
"<Service>.<botocore shape>" (Glue and Athena both have a Database).

Errors carry the __type and status that src/awserr.c maps: an
operation's 400 answer lists the errors its model declares that
firelake answers, plus the ones every operation can answer.

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

JSON_CONTENT = "application/x-amz-json-1.1"

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

# Members of Firehose's model that firelake does not serve: other
# destinations, other sources, server-side encryption of the stream.
FIREHOSE_UNSERVED_PREFIXES = (
    "Redshift", "Elasticsearch", "Amazonopensearchservice",
    "AmazonOpenSearchServerless", "Splunk", "HttpEndpoint", "Snowflake",
    "Iceberg", "MSKSource", "KinesisStreamSource", "DatabaseSource",
    "DeliveryStreamEncryptionConfigurationInput",
)

# Glue crawlers crawl S3 only: the other targets are refused when given
# and answered as empty lists (src/crawler.c).
GLUE_EMPTY_TARGETS = ("JdbcTargets", "MongoDBTargets", "DynamoDBTargets",
                      "CatalogTargets", "DeltaTargets", "IcebergTargets",
                      "HudiTargets")


class Service:
    """One AWS API that firelake serves, and how src/awserr.c answers its
    errors."""

    def __init__(self, **kw):
        self.name = kw["name"]            # botocore service name
        self.tag = kw["tag"]              # OpenAPI tag, schema namespace
        self.folder = kw["folder"]        # api/<folder>/
        self.prefix = kw["prefix"]        # X-Amz-Target prefix
        self.operations = kw["operations"]  # None: api/<folder>/'s
        self.summary = kw["summary"]
        self.member = kw["member"]        # "message" or "Message"
        # __type -> status of every error that firelake answers (awserr.c)
        self.answered = kw["answered"]
        # answered by every operation whatever its model declares
        self.always = kw["always"]
        self.internal = kw["internal"]    # (__type at 500, __type at 503)
        self.unavailable = kw["unavailable"]  # when it answers 503
        # error examples: from api/errors/ (Firehose) or these messages
        # (a dict: by the first key that is a part of the operation's name)
        self.error_examples = kw.get("error_examples")
        self.unserved = kw.get("unserved", lambda struct, member: False)
        self.restricted = kw.get("restricted", {})


SERVICES = [
    Service(
        name="firehose", tag="Firehose", folder="firehose",
        prefix="Firehose_20150804.", operations=FIREHOSE_OPERATIONS,
        summary="Kinesis Data Firehose API (AWS JSON 1.1): direct-put "
                "streams with S3 or extended S3 destinations.",
        member="message",
        answered={
            "ValidationException": 400, "SerializationException": 400,
            "InvalidArgumentException": 400, "ResourceNotFoundException": 400,
            "ResourceInUseException": 400, "LimitExceededException": 400,
            "ConcurrentModificationException": 400,
            "UnknownOperationException": 400,
            "ServiceUnavailableException": 503, "InternalFailure": 500,
        },
        always=["ValidationException", "SerializationException",
                "UnknownOperationException"],
        internal=("InternalFailure", "ServiceUnavailableException"),
        unavailable="load shed (WAL budget used up) or a dependency down",
        unserved=lambda struct, member: member.startswith(FIREHOSE_UNSERVED_PREFIXES),
    ),
    Service(
        name="glue", tag="Glue", folder="glue", prefix="AWSGlue.",
        operations=None,
        summary="AWS Glue API (AWS JSON 1.1): the Data Catalog's databases, "
                "tables and partitions, and crawlers of S3 targets.",
        member="Message",
        answered={
            "InvalidInputException": 400, "EntityNotFoundException": 400,
            "AlreadyExistsException": 400,
            "ConcurrentModificationException": 400,
            "ResourceNumberLimitExceededException": 400,
            "CrawlerRunningException": 400, "CrawlerNotRunningException": 400,
            "CrawlerStoppingException": 400, "SerializationException": 400,
            "UnknownOperationException": 400,
            "InternalServiceException": 500,
        },
        # Every request is validated against its model: InvalidInput.
        always=["InvalidInputException", "SerializationException",
                "UnknownOperationException"],
        internal=("InternalServiceException", "InternalServiceException"),
        unavailable="firelake is stopping, PostgreSQL is down or no crawl "
                    "runner is configured",
        error_examples={
            "InvalidInputException":
                "1 validation error detected: Value null at 'name' failed to "
                "satisfy constraint: Member must not be null",
            "EntityNotFoundException": {
                "Crawler": "Crawler entry with name landing does not exist",
                "Batch": "Table orders not found.",
                "GetPartitions": "Table orders not found.",
                "GetPartition": "Cannot find partition.",
                "UpdatePartition": "Cannot find partition.",
                "DeletePartition": "Cannot find partition.",
                "Partition": "Table orders not found.",
                "Table": "Table orders not found.",
                "": "Database analytics not found.",
            },
            "AlreadyExistsException": "Database already exists.",
            "ConcurrentModificationException":
                "Update table failed due to concurrent modifications.",
            "ResourceNumberLimitExceededException":
                "Number of crawlers exceeds the limit of 1000",
            "CrawlerRunningException": "Crawler with name landing has already started",
            "CrawlerNotRunningException": "Crawler with name landing isn't running",
            "CrawlerStoppingException": "Crawler with name landing is stopping",
            "SerializationException": "Start of structure or map found where not expected.",
            "UnknownOperationException": "Unknown operation AWSGlue.GetDatabasez",
            "InternalServiceException@500": "out of memory",
            "InternalServiceException@503": "firelake is stopping",
        },
        restricted={("CrawlerTargets", m): {
            "type": "array", "maxItems": 0,
            "description": "firelake crawls S3 targets only: absent or empty "
                           "in requests (else InvalidInputException), an "
                           "empty list in answers.",
        } for m in GLUE_EMPTY_TARGETS},
    ),
    Service(
        name="athena", tag="Athena", folder="athena", prefix="AmazonAthena.",
        operations=None,
        summary="Amazon Athena API (AWS JSON 1.1) over the Glue Data Catalog "
                "(the catalog AwsDataCatalog).",
        member="Message",
        answered={
            "InvalidRequestException": 400, "MetadataException": 400,
            "TooManyRequestsException": 400, "ResourceNotFoundException": 400,
            "SerializationException": 400, "UnknownOperationException": 400,
            "InternalServerException": 500,
        },
        always=["InvalidRequestException", "SerializationException",
                "UnknownOperationException"],
        internal=("InternalServerException", "InternalServerException"),
        unavailable="firelake is stopping or PostgreSQL is down",
        error_examples={
            "InvalidRequestException": {
                "CreateWorkGroup": "WorkGroup analysts is already created.",
                "StartQueryExecution":
                    "No output location provided. An output location is "
                    "required either through the Workgroup result configuration "
                    "setting or as an API input.",
                "GetQueryResults": "Query has not yet finished. Current state: RUNNING",
                "CreateNamedQuery": "WorkGroup analysts is not found.",
                "ListDatabases": "DataCatalog hive was not found",
                "ListTableMetadata": "DataCatalog hive was not found",
                "List": "Invalid pagination token",
                "WorkGroup": "WorkGroup analysts is not found.",
                "NamedQuery": "NamedQuery 2f5a8c1e-7b3d-4e9a-a6f0-1c2d3e4f5a6b "
                              "does not exist",
                "Query": "QueryExecution 8d2e4b7a-9c61-4e5d-8f2a-7b183f1c9a52 "
                         "was not found",
                "": "DataCatalog hive was not found",
            },
            "MetadataException":
                "Database analytics not found. (Service: AmazonDataCatalog; "
                "Status Code: 400; Error Code: EntityNotFoundException; "
                "Request ID: 6f1c2b9e-0d4a-4c7e-9b35-2a8e1f0c7d64; Proxy: null)",
            "TooManyRequestsException":
                "You have exceeded the limit for the number of queries you "
                "can run concurrently. Reduce the number of concurrent queries "
                "submitted by this account. Contact customer support to "
                "request a concurrent query limit increase.",
            "SerializationException": "Start of structure or map found where not expected.",
            "UnknownOperationException": "Unknown operation AmazonAthena.GetQueryResult",
            "InternalServerException@500": "out of memory",
            "InternalServerException@503": "firelake is stopping",
        },
    ),
]


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


def anchored(pattern):
    """AWS patterns must match the whole value (Java's matches());
    a JSON Schema pattern matches anywhere unless anchored."""
    body = pattern[1:] if pattern.startswith("^") else pattern
    if body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    return f"^(?:{body})$"


class Converter:
    """botocore shapes to OpenAPI schemas, into schemas (shared by the
    services), named <tag>.<shape>."""

    def __init__(self, service, schemas):
        self.svc = service
        self.schemas = schemas

    def ref(self, shape):
        """A schema for shape: a $ref for structures, inline otherwise."""
        if shape is None:
            return {"type": "object", "description": "No members."}
        if shape.type_name == "structure":
            name = f"{self.svc.tag}.{shape.name}"
            if name not in self.schemas:
                self.schemas[name] = None  # recursion guard
                self.schemas[name] = self.structure(shape)
            return {"$ref": f"#/components/schemas/{name}"}
        return self.scalar(shape)

    def structure(self, shape):
        props = {}
        dropped = []
        for name, member in shape.members.items():
            if self.svc.unserved(shape.name, name):
                dropped.append(name)
                continue
            schema = self.svc.restricted.get((shape.name, name))
            if schema is not None:
                props[name] = dict(schema)
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
            out = {"type": "object", "additionalProperties": self.ref(shape.value)}
            if "min" in meta:
                out["minProperties"] = meta["min"]
            if "max" in meta:
                out["maxProperties"] = meta["max"]
            return out
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
                    out["pattern"] = anchored(pattern)
                except re.error:
                    # Java classes such as \p{L}, surrogate pairs: not a
                    # portable regex.
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


def folder_operations(root, svc, model):
    """The operations whose examples api/<folder>/ holds: each must be an
    operation of the model and have both files."""
    folder = os.path.join(root, "api", svc.folder)
    kinds = {}
    for name in sorted(os.listdir(folder)):
        op, kind = name.rpartition(".json")[0].rpartition(".")[::2]
        if kind not in ("request", "response") or op not in model.operation_names:
            raise SystemExit(f"gen-openapi: api/{svc.folder}/{name}: not an "
                             f"example of an operation of {svc.tag}")
        kinds.setdefault(op, set()).add(kind)
    for op, have in kinds.items():
        for kind in {"request", "response"} - have:
            raise SystemExit(f"gen-openapi: api/{svc.folder}/{op}.{kind}.json "
                             "missing")
    return sorted(kinds)


def error_example(root, svc, name, status=400, op=None):
    if svc.error_examples is None:
        path = os.path.join(root, "api", "errors", name + ".json")
        return load(root, "api", "errors", name + ".json") \
            if os.path.exists(path) else None
    text = svc.error_examples.get(f"{name}@{status}") or svc.error_examples.get(name)
    if isinstance(text, dict):
        # By operation: the first key that is a part of its name.
        text = next(t for key, t in text.items() if key in (op or ""))
    return {"__type": name, svc.member: text} if text else None


def error_schema_name(svc):
    return f"{svc.tag}Error"


def error_headers():
    return {
        "x-amzn-RequestId": {"$ref": "#/components/headers/RequestId"},
        "x-amzn-ErrorType": {"$ref": "#/components/headers/ErrorType"},
    }


def operation(root, svc, model, conv, op):
    om = model.operation_model(op)
    client = []
    for name in [e.name for e in om.error_shapes] + svc.always:
        if svc.answered.get(name) == 400 and name not in client:
            client.append(name)
    examples = {}
    for name in client:
        value = error_example(root, svc, name, op=op)
        if value is not None:
            examples[name] = {"value": value}
    target = svc.prefix + op
    desc = doc_text(om.documentation, 600) or op
    responses = {
        "200": {
            "description": "Success.",
            "headers": {"x-amzn-RequestId": {"$ref": "#/components/headers/RequestId"}},
            "content": {JSON_CONTENT: {
                "schema": conv.ref(om.output_shape),
                "example": load(root, "api", svc.folder, f"{op}.response.json"),
            }},
        },
        "400": {
            "description": "The request was refused. `__type` is one of: " +
                           ", ".join(client) + ".",
            "headers": error_headers(),
            "content": {JSON_CONTENT: {
                "schema": {"$ref": f"#/components/schemas/{error_schema_name(svc)}"},
                "examples": examples,
            }},
        },
        "500": {"$ref": f"#/components/responses/{svc.tag}.InternalFailure"},
        "503": {"$ref": f"#/components/responses/{svc.tag}.ServiceUnavailable"},
    }
    return {
        "post": {
            "tags": [svc.tag],
            "operationId": f"{svc.tag}.{op}",
            "summary": f"{op} (X-Amz-Target: {target})",
            "description": desc + f"\n\nSent as `POST /` with `X-Amz-Target: "
                                  f"{target}`.",
            "parameters": [{
                "name": "X-Amz-Target",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "enum": [target]},
            }, {"$ref": "#/components/parameters/ContentType"}],
            "requestBody": {
                "required": True,
                "content": {JSON_CONTENT: {
                    "schema": conv.ref(om.input_shape),
                    "example": load(root, "api", svc.folder, f"{op}.request.json"),
                }},
            },
            "responses": responses,
        }
    }


def service_components(root, svc):
    """The error schema and the 500 / 503 answers of one service."""
    types = sorted(svc.answered)
    schema = {
        "type": "object",
        "description": f"The AWS JSON 1.1 error shape of {svc.tag}. The same "
                       "name is in the x-amzn-ErrorType header.",
        "required": ["__type", svc.member],
        "properties": {
            "__type": {"type": "string", "enum": types},
            svc.member: {"type": "string"},
        },
    }
    ref = {"$ref": f"#/components/schemas/{error_schema_name(svc)}"}
    failure, unavailable = svc.internal
    responses = {}
    for key, status, typ, text in (
            ("InternalFailure", 500, failure,
             f"{failure}: firelake failed; the request may be retried."),
            ("ServiceUnavailable", 503, unavailable,
             f"{unavailable}: {svc.unavailable}. Retry with backoff.")):
        example = error_example(root, svc, typ, status)
        if example is None and svc.error_examples is None and status == 500:
            example = {"__type": typ, svc.member: "Internal failure"}
        responses[f"{svc.tag}.{key}"] = {
            "description": text,
            "headers": error_headers(),
            "content": {JSON_CONTENT: {
                "schema": ref,
                "examples": {typ: {"value": example}},
            }},
        }
    return {error_schema_name(svc): schema}, responses


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

HEALTH_SCHEMA = {
    "type": "object",
    "required": ["status", "postgres", "storage", "wal"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded", "full"],
                   "description": "ok; degraded when PostgreSQL or storage "
                                  "fails (ingest still acknowledges to the "
                                  "WAL); full when the WAL budget is used up "
                                  "(ingest is refused)."},
        "postgres": {"type": "string", "enum": ["ok", "unavailable"]},
        "storage": {"type": "string",
                    "enum": ["ok", "unavailable", "forbidden", "no_such_bucket", "failing"],
                    "description": "the outcome of the last write to storage: unavailable "
                                   "(timeout, refused, 5xx), forbidden (403), no_such_bucket "
                                   "(404); delivery retries until it is ok again."},
        "storage_error": {"type": "string",
                          "description": "the last failure's message (when storage is not ok)."},
        "storage_since_ms": {"type": "integer", "format": "int64",
                             "description": "when storage entered its state (ms since epoch)."},
        "delivery": {"type": "string", "enum": ["ok", "retrying"],
                     "description": "retrying while the last delivery attempt failed "
                                    "(storage or catalog); the WAL keeps the data."},
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


def operations_paths():
    return {
        "/health": {
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
        },
        "/metrics": {
            "get": {
                "tags": ["Operations"],
                "operationId": "Metrics",
                "summary": "Prometheus metrics",
                "description": "Prometheus text exposition format 0.0.4: "
                               "per-stream counters, WAL gauges, request "
                               "latency. Also answers HEAD.",
                "responses": {
                    "200": {"description": "The metrics.",
                            "content": {"text/plain; version=0.0.4": {
                                "schema": {"type": "string"},
                                "example": METRICS_EXAMPLE}}},
                },
            }
        },
    }


def document(root):
    session = botocore.session.get_session()
    paths, shapes, schemas, responses, versions = {}, {}, {}, {}, []
    for svc in SERVICES:
        model = session.get_service_model(svc.name)
        versions.append(f"{svc.tag} {model.api_version}")
        conv = Converter(svc, shapes)
        ops = svc.operations or folder_operations(root, svc, model)
        for op in ops:
            paths[f"/#X-Amz-Target={svc.prefix}{op}"] = \
                operation(root, svc, model, conv, op)
        s, r = service_components(root, svc)
        schemas.update(s)
        responses.update(r)
    paths.update(operations_paths())
    schemas["Health"] = HEALTH_SCHEMA
    schemas.update(sorted(shapes.items()))

    return {
        "openapi": "3.0.3",
        "info": {
            "title": "firelake",
            "version": "0.1.0",
            "license": {"name": "Apache-2.0"},
            "description": (
                "A self-hosted data lake that speaks the Amazon Kinesis Data "
                "Firehose, AWS Glue (Data Catalog and crawlers) and Amazon "
                "Athena APIs. Unmodified AWS clients work with "
                "`--endpoint-url`.\n\n"
                "AWS JSON 1.1: every operation is `POST /` with "
                "`Content-Type: application/x-amz-json-1.1` and "
                "`X-Amz-Target: <prefix><Operation>`, the prefix being "
                "`Firehose_20150804.`, `AWSGlue.` or `AmazonAthena.`. The "
                "paths `/#X-Amz-Target=...` below only tell the operations "
                "apart; the fragment is never sent. Errors are "
                "`{\"__type\", \"message\"}` (Glue and Athena: `\"Message\"`) "
                "with the status AWS uses: 400 for client errors, 500 for "
                "internal failures (InternalFailure, InternalServiceException, "
                "InternalServerException) and 503 when firelake sheds load "
                "or a dependency is down (retry).\n\n"
                "Request and response schemas are converted from botocore "
                f"{botocore.__version__}'s models ({', '.join(versions)}) by "
                "scripts/gen-openapi.py, restricted to the shapes of the "
                "operations firelake serves; for Firehose, to DirectPut "
                "streams with S3 or extended S3 destinations. Schemas are "
                "named `<Service>.<shape>`. Examples are the files under api/."),
        },
        "servers": [{"url": "http://127.0.0.1:4599",
                     "description": "firelake serve (default --listen)"}],
        "tags": [{"name": svc.tag, "description": svc.summary} for svc in SERVICES] +
                [{"name": "Operations", "description": "Health and metrics."}],
        "security": [{}, {"sigv4": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "sigv4": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "AWS Signature Version 4, as every AWS SDK "
                                   "signs (service firehose, glue or athena).",
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
            "responses": responses,
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
    text = ("# Generated by scripts/gen-openapi.py from botocore's Firehose, Glue\n"
            "# and Athena models and the examples under api/. Edit those, then\n"
            "# regenerate.\n" +
            yaml.dump(doc, Dumper=Dumper, sort_keys=False, width=100,
                      allow_unicode=True))
    with open(os.path.join(args.root, "openapi.yaml"), "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
