-- firelake catalog, migration 5: one lake object, many tables.
--
-- Glue lets two tables read one location (a stream's table and a crawler's
-- table over the same prefix, an external table over delivered data), and
-- Athena reads the objects of each.  An object is therefore recorded once
-- per table that holds it: (bucket, key, db, tbl), with db and tbl empty
-- for an object outside any table (error output).  Staging bookkeeping is
-- per table as well, so staging an object for one table does not hide it
-- from the other.

UPDATE fl_objects SET db = '' WHERE db IS NULL;
UPDATE fl_objects SET tbl = '' WHERE tbl IS NULL;
ALTER TABLE fl_objects ALTER COLUMN db SET DEFAULT '';
ALTER TABLE fl_objects ALTER COLUMN db SET NOT NULL;
ALTER TABLE fl_objects ALTER COLUMN tbl SET DEFAULT '';
ALTER TABLE fl_objects ALTER COLUMN tbl SET NOT NULL;
ALTER TABLE fl_objects DROP CONSTRAINT fl_objects_pkey;
ALTER TABLE fl_objects ADD PRIMARY KEY (bucket, key, db, tbl);
DROP INDEX fl_objects_partition;
CREATE INDEX fl_objects_partition ON fl_objects (db, tbl, vals) WHERE db <> '';

ALTER TABLE fl_stage_objects DROP CONSTRAINT fl_stage_objects_pkey;
ALTER TABLE fl_stage_objects ADD PRIMARY KEY (bucket, key, db, tbl);
