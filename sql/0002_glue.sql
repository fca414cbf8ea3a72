-- firelake catalog, migration 2: the Glue Data Catalog.
--
-- Databases, tables, partitions and crawlers as Glue has them.  A table
-- or partition is kept as the Glue input that made it (TableInput or
-- PartitionInput without Name/Values), so Get* answers what Create*/
-- Update* were given; what firelake infers is written into the same
-- documents.  Names are Glue's lower-case [a-z0-9_] names: they become
-- PostgreSQL identifiers in the query engine (always through
-- fl_db_ident).

CREATE TABLE fl_glue_databases (
    name            text PRIMARY KEY CHECK (name ~ '^[a-z0-9_]{1,255}$'),
    -- DatabaseInput without Name: Description, LocationUri, Parameters ...
    spec            jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO fl_glue_databases (name, spec)
VALUES ('default', '{"Description": "Default Hive database"}');

CREATE TABLE fl_glue_tables (
    db              text NOT NULL REFERENCES fl_glue_databases (name) ON DELETE CASCADE,
    name            text NOT NULL CHECK (name ~ '^[a-z0-9_]{1,255}$'),
    -- TableInput without Name: Description, Owner, Retention,
    -- StorageDescriptor {Columns, Location, InputFormat, OutputFormat,
    -- Compressed, SerdeInfo, Parameters ...}, PartitionKeys, TableType,
    -- Parameters ...
    spec            jsonb NOT NULL,
    stream          text,           -- the delivery stream that feeds it
    crawler         text,           -- the crawler that made it
    version_id      bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (db, name)
);
CREATE INDEX fl_glue_tables_stream ON fl_glue_tables (stream) WHERE stream IS NOT NULL;

CREATE TABLE fl_glue_partitions (
    db              text NOT NULL,
    tbl             text NOT NULL,
    vals            text[] NOT NULL,  -- Values, in partition-key order
    -- PartitionInput without Values: StorageDescriptor {Location ...},
    -- Parameters, LastAccessTime ...
    spec            jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (db, tbl, vals),
    FOREIGN KEY (db, tbl) REFERENCES fl_glue_tables (db, name)
        ON DELETE CASCADE ON UPDATE CASCADE
);

-- Objects now belong to a table's partition (vals '{}' for a table
-- without partition keys); crawled objects have no stream.
ALTER TABLE fl_objects ALTER COLUMN stream DROP NOT NULL;
ALTER TABLE fl_objects DROP CONSTRAINT fl_objects_kind_check;
ALTER TABLE fl_objects ADD CONSTRAINT fl_objects_kind_check
    CHECK (kind IN ('data', 'error', 'crawled'));
ALTER TABLE fl_objects ADD COLUMN db text;
ALTER TABLE fl_objects ADD COLUMN tbl text;
ALTER TABLE fl_objects ADD COLUMN vals text[];
CREATE INDEX fl_objects_partition ON fl_objects (db, tbl, vals) WHERE db IS NOT NULL;

CREATE TABLE fl_glue_crawlers (
    name            text PRIMARY KEY,
    -- CreateCrawler's request without Name: Role, DatabaseName, Targets,
    -- TablePrefix, Description, Schedule, SchemaChangePolicy ...
    spec            jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'READY'
                    CHECK (state IN ('READY', 'RUNNING', 'STOPPING')),
    version         bigint NOT NULL DEFAULT 1,
    -- The running crawl: who runs it and when it last said so.
    runner          text,
    heartbeat_at    timestamptz,
    started_at      timestamptz,
    -- LastCrawl {Status, ErrorMessage, StartTime, ...} and the counters
    -- GetCrawlerMetrics shows.
    last_crawl      jsonb,
    crawl_elapsed_ms bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
