-- firelake catalog, migration 4: Athena query executions, workgroups,
-- named queries, and the state of the staged lake.
--
-- The staged lake itself is not here: every Glue table db.tbl is the
-- PostgreSQL table "db"."tbl" (schema named after the database), made by
-- stage.c when a query or eager staging first needs it.  Those tables are
-- UNLOGGED: a cache that PostgreSQL empties after a crash, which
-- fl_stage_epoch (UNLOGGED too) lets firelake notice.

CREATE TABLE fl_athena_workgroups (
    name            text PRIMARY KEY CHECK (name ~ '^[a-zA-Z0-9._-]{1,128}$'),
    state           text NOT NULL DEFAULT 'ENABLED' CHECK (state IN ('ENABLED', 'DISABLED')),
    description     text NOT NULL DEFAULT '',
    -- WorkGroupConfiguration as given (ResultConfiguration.OutputLocation,
    -- BytesScannedCutoffPerQuery, EnforceWorkGroupConfiguration ...) plus
    -- firelake's "StatementTimeoutInSeconds" (default 1800).
    configuration   jsonb NOT NULL DEFAULT '{}',
    tags            jsonb NOT NULL DEFAULT '[]',
    created_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO fl_athena_workgroups (name, description, configuration)
VALUES ('primary', '', '{"ResultConfiguration": {"OutputLocation": "s3://lake/athena-results/"},
                         "EnforceWorkGroupConfiguration": false,
                         "PublishCloudWatchMetricsEnabled": false,
                         "RequesterPaysEnabled": false,
                         "EngineVersion": {"SelectedEngineVersion": "AUTO",
                                           "EffectiveEngineVersion": "Athena engine version 3"}}');

CREATE TABLE fl_athena_queries (
    id              uuid PRIMARY KEY,
    workgroup       text NOT NULL,
    -- StartQueryExecution's ClientRequestToken: the same token gives the
    -- same execution (with the same query text).
    request_token   text,
    query           text NOT NULL,
    statement_type  text NOT NULL CHECK (statement_type IN ('DDL', 'DML', 'UTILITY')),
    catalog         text NOT NULL DEFAULT 'AwsDataCatalog',
    db              text,                       -- QueryExecutionContext.Database
    output_location text NOT NULL,              -- s3://bucket/prefix/<id>.csv|.txt
    state           text NOT NULL DEFAULT 'QUEUED'
                    CHECK (state IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    state_reason    text,
    -- AthenaError {ErrorCategory, ErrorType, Retryable, ErrorMessage}.
    error           jsonb,
    cancel          boolean NOT NULL DEFAULT false,
    runner          text,                       -- who runs it, while RUNNING
    heartbeat_at    timestamptz,
    submitted_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at      timestamptz,
    completed_at    timestamptz,
    -- Statistics, in milliseconds and bytes.
    queue_ms        bigint,
    planning_ms     bigint,
    engine_ms       bigint,
    service_ms      bigint,
    scanned_bytes   bigint,
    input_rows      bigint,
    output_rows     bigint,
    output_bytes    bigint,
    -- ResultSetMetadata.ColumnInfo of the result.
    columns         jsonb
);
CREATE UNIQUE INDEX fl_athena_queries_token ON fl_athena_queries (workgroup, request_token)
    WHERE request_token IS NOT NULL;
CREATE INDEX fl_athena_queries_queued ON fl_athena_queries (submitted_at) WHERE state = 'QUEUED';
CREATE INDEX fl_athena_queries_workgroup ON fl_athena_queries (workgroup, submitted_at DESC);

CREATE TABLE fl_athena_named_queries (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    description     text,
    db              text NOT NULL,
    query           text NOT NULL,
    workgroup       text NOT NULL DEFAULT 'primary',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fl_athena_named_queries_workgroup ON fl_athena_named_queries (workgroup, created_at);

-- The staged lake: which partitions (leaf tables) are staged, how big
-- they are and when a query last used them (eviction is least recently
-- used), and which objects they hold.
CREATE TABLE fl_stage_partitions (
    db              text NOT NULL,
    tbl             text NOT NULL,
    vals            text[] NOT NULL,
    relname         text NOT NULL,              -- leaf table in schema "db"
    staged_bytes    bigint NOT NULL DEFAULT 0,
    staged_rows     bigint NOT NULL DEFAULT 0,
    used_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (db, tbl, vals)
);
-- Query plans name leaves; eviction takes the least recently used.
CREATE INDEX fl_stage_partitions_relname ON fl_stage_partitions (db, relname);
CREATE INDEX fl_stage_partitions_lru ON fl_stage_partitions (used_at) WHERE staged_bytes > 0;
CREATE TABLE fl_stage_objects (
    bucket          text NOT NULL,
    key             text NOT NULL,
    db              text NOT NULL,
    tbl             text NOT NULL,
    vals            text[] NOT NULL,
    rows            bigint NOT NULL,
    bad             bigint NOT NULL DEFAULT 0,  -- lines skipped (not JSON objects ...)
    staged_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bucket, key)
);
CREATE INDEX fl_stage_objects_partition ON fl_stage_objects (db, tbl, vals);

-- Empty after a crash of PostgreSQL (UNLOGGED), like the staged tables:
-- firelake then forgets what fl_stage_* says was staged.
CREATE UNLOGGED TABLE fl_stage_epoch (epoch bigint NOT NULL);
