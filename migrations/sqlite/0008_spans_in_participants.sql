-- Conflict detection without the R*Tree, and CHECK constraints that cost nothing per row.
--
-- Inserting a box into participant_spans (the rtree_i32 of 0002) cost about 43,000 instructions
-- per participant, half of what the writer spent on a created event (ChooseLeaf over every cell of
-- each level, rewriting whole node blobs, the rowid and parent maps). The boxes now live on the
-- participant row itself, in an ordinary index:
--   first_hour, last_hour: the box as before, whole hours widened by one on each side, min/max so
--                          that a reversed range (imported data) stays first <= last;
--   span_class:            the bit length of last_hour - first_hour, so a box of class c is
--                          shorter than 2^c hours.
-- A box of class c that overlaps [qf, ql] starts in [qf - 2^c + 1, ql]: per class of the user, one
-- range of event_participants_by_span (user_id, span_class, first_hour, last_hour) holds every
-- candidate, and last_hour in the index drops the ones that end before qf without reading
-- anything else. A user's classes are few (2 and 3 for events of half an hour to five hours), and
-- each is found by one seek in the same index. The walk reads only this user's boxes, where the
-- R*Tree visited every user's boxes in the window.
--
-- CHECK (x IN ('a', 'b', 'c')) built an ephemeral table for its list at every row checked (about
-- 10,000 instructions, a page cleared and filled): 20 % of an insert into event_participants and
-- event_versions. The same tests written with = and OR cost a few comparisons. SQLite cannot alter
-- a CHECK constraint, so both tables are rebuilt (the documented way: new table, copy, drop,
-- rename), with the same rows, ids and positions.

CREATE TABLE event_participants_new (
  id         INTEGER PRIMARY KEY,
  event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       TEXT    NOT NULL CHECK (role = 'OWNER' OR role = 'EDITOR' OR role = 'VIEWER'),
  first_hour INTEGER NOT NULL,
  last_hour  INTEGER NOT NULL,
  span_class INTEGER NOT NULL,
  UNIQUE (user_id, event_id)
) STRICT;

INSERT INTO event_participants_new (id, event_id, user_id, role, first_hour, last_hour, span_class)
SELECT id, event_id, user_id, role, first_hour, last_hour,
       (n >= 1) + (n >= 2) + (n >= 4) + (n >= 8) + (n >= 16) + (n >= 32) + (n >= 64) + (n >= 128)
       + (n >= 256) + (n >= 512) + (n >= 1024) + (n >= 2048) + (n >= 4096) + (n >= 8192)
       + (n >= 16384) + (n >= 32768) + (n >= 65536) + (n >= 131072) + (n >= 262144)
       + (n >= 524288) + (n >= 1048576) + (n >= 2097152) + (n >= 4194304) + (n >= 8388608)
       + (n >= 16777216) + (n >= 33554432) + (n >= 67108864) + (n >= 134217728)
       + (n >= 268435456) + (n >= 536870912) + (n >= 1073741824) + (n >= 2147483648)
       + (n >= 4294967296) + (n >= 8589934592)
FROM (SELECT p.id, p.event_id, p.user_id, p.role,
             min(e.start_time, e.end_time) / 3600000000 - 1 AS first_hour,
             max(e.start_time, e.end_time) / 3600000000 + 1 AS last_hour,
             max(e.start_time, e.end_time) / 3600000000 - min(e.start_time, e.end_time) / 3600000000
               + 2 AS n
      FROM event_participants p JOIN events e ON e.id = p.event_id);

DROP TABLE event_participants;
ALTER TABLE event_participants_new RENAME TO event_participants;
CREATE INDEX event_participants_by_event ON event_participants (event_id);
CREATE UNIQUE INDEX one_owner_per_event ON event_participants (event_id) WHERE role = 'OWNER';
CREATE INDEX event_participants_by_span
  ON event_participants (user_id, span_class, first_hour, last_hour);

DROP TABLE participant_spans;

CREATE TABLE event_versions_new (
  event_id           INTEGER NOT NULL,
  position           INTEGER NOT NULL,
  history_id         INTEGER NOT NULL UNIQUE,
  version            INTEGER NOT NULL,  -- the event's version (ETag) after the change
  history_type       TEXT    NOT NULL
                     CHECK (history_type = '+' OR history_type = '~' OR history_type = '-'),
  history_date       INTEGER NOT NULL,  -- Unix microseconds (UTC)
  changed_by         INTEGER REFERENCES users (id),
  change_reason      TEXT,
  owner_id           INTEGER NOT NULL,
  title              TEXT    NOT NULL,
  description        TEXT    NOT NULL,
  start_time         INTEGER NOT NULL,
  end_time           INTEGER NOT NULL,
  location           TEXT    NOT NULL,
  is_recurring       INTEGER NOT NULL,
  recurrence_pattern TEXT,
  PRIMARY KEY (event_id, position)
) STRICT, WITHOUT ROWID;

INSERT INTO event_versions_new SELECT * FROM event_versions ORDER BY event_id, position;
DROP TABLE event_versions;
ALTER TABLE event_versions_new RENAME TO event_versions;

CREATE TRIGGER event_versions_immutable_update BEFORE UPDATE ON event_versions BEGIN
  SELECT RAISE(ABORT, 'event versions are immutable');
END;

CREATE TRIGGER event_versions_immutable_delete BEFORE DELETE ON event_versions BEGIN
  SELECT RAISE(ABORT, 'event versions are immutable');
END;
