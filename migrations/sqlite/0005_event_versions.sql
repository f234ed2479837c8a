-- The version history of events: one immutable row per recorded change.
-- Clustered by (event_id, position): position is 1, 2, 3... within one event, so any page of an
-- event's history is one range of the table itself, its versions side by side on a few pages,
-- and costs the same at version 3 or 100,000. history_id: one sequence across all events, the
-- next one max + 1 through its unique index; versions are never deleted, so an id is never given
-- twice. No foreign key to events: versions outlive their event.
CREATE TABLE event_versions (
  event_id           INTEGER NOT NULL,
  position           INTEGER NOT NULL,
  history_id         INTEGER NOT NULL UNIQUE,
  version            INTEGER NOT NULL,  -- the event's version (ETag) after the change
  history_type       TEXT    NOT NULL CHECK (history_type IN ('+', '~', '-')),
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

-- History only grows: the database itself refuses to rewrite or delete a version.
CREATE TRIGGER event_versions_immutable_update BEFORE UPDATE ON event_versions BEGIN
  SELECT RAISE(ABORT, 'event versions are immutable');
END;

CREATE TRIGGER event_versions_immutable_delete BEFORE DELETE ON event_versions BEGIN
  SELECT RAISE(ABORT, 'event versions are immutable');
END;

-- Events stored before history existed get their present state as a '+' version, attributed to
-- their owner at their creation time: every event has at least one version.
INSERT INTO event_versions (event_id, position, history_id, version, history_type, history_date,
                            changed_by, change_reason, owner_id, title, description, start_time,
                            end_time, location, is_recurring, recurrence_pattern)
SELECT id, 1, row_number() OVER (ORDER BY id), version, '+', created_at, owner_id, NULL, owner_id,
       title, description, start_time, end_time, location, is_recurring, recurrence_pattern
FROM events ORDER BY id;
