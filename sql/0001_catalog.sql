-- firelake catalog, migration 1: delivery streams and delivered objects.
-- Applied once, in its own transaction, at start (see src/db.c).

CREATE TABLE fl_delivery_streams (
    name            text PRIMARY KEY CHECK (name ~ '^[a-zA-Z0-9_.-]{1,64}$'),
    arn             text NOT NULL,
    status          text NOT NULL DEFAULT 'ACTIVE'
                    CHECK (status IN ('ACTIVE', 'DELETING')),
    stream_type     text NOT NULL DEFAULT 'DirectPut',
    version_id      integer NOT NULL DEFAULT 1,
    -- The ExtendedS3DestinationDescription as DescribeDeliveryStream shows it.
    destination     jsonb NOT NULL,
    -- True when the stream was created with S3DestinationConfiguration.
    plain_s3        boolean NOT NULL DEFAULT false,
    tags            jsonb NOT NULL DEFAULT '[]',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per object that delivery stored.  Keyed by location, so a
-- segment delivered twice after a crash records nothing twice.
CREATE TABLE fl_objects (
    bucket          text NOT NULL,
    key             text NOT NULL,
    stream          text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('data', 'error')),
    partition_path  text NOT NULL,  -- evaluated prefix, e.g. raw/events/event_type=a/dt=.../
    bytes           bigint NOT NULL,
    records         bigint NOT NULL,
    min_created_at  timestamptz,
    max_created_at  timestamptz,
    delivered_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bucket, key)
);
CREATE INDEX fl_objects_stream_partition ON fl_objects (stream, partition_path);
