-- Events and who takes part in them. Times are Unix microseconds (UTC).
-- AUTOINCREMENT: an id is never reused, so a deleted event's history can never be mistaken for
-- a new event's.
CREATE TABLE events (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  owner_id           INTEGER NOT NULL REFERENCES users (id),
  title              TEXT    NOT NULL,
  description        TEXT    NOT NULL DEFAULT '',
  start_time         INTEGER NOT NULL,
  end_time           INTEGER NOT NULL,
  location           TEXT    NOT NULL DEFAULT '',
  is_recurring       INTEGER NOT NULL DEFAULT 0,
  recurrence_pattern TEXT,
  version            INTEGER NOT NULL DEFAULT 1,  -- bumps with every recorded change (ETag)
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
) STRICT;

-- Exactly one OWNER per event; EDITOR and VIEWER rows come with sharing.
CREATE TABLE event_participants (
  id       INTEGER PRIMARY KEY,  -- also the id of the participant's span in participant_spans
  event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role     TEXT    NOT NULL CHECK (role IN ('OWNER', 'EDITOR', 'VIEWER')),
  UNIQUE (user_id, event_id)
) STRICT;

CREATE INDEX event_participants_by_event ON event_participants (event_id);
CREATE UNIQUE INDEX one_owner_per_event ON event_participants (event_id) WHERE role = 'OWNER';

-- The interval index of conflict detection: one box per participant, (user, user) x (first hour,
-- last hour) of the event, in whole hours so that 32-bit integers reach from year 1 to 9999. It
-- is a coarse filter (a box is widened by an hour on each side); the exact overlap test runs on
-- events.start_time/end_time. Kept in step by the triggers below; min/max keep a reversed
-- range (imported data) from breaking the index's first <= last rule.
CREATE VIRTUAL TABLE participant_spans USING rtree_i32 (
  id, min_user, max_user, first_hour, last_hour
);

CREATE TRIGGER participant_span_insert AFTER INSERT ON event_participants BEGIN
  INSERT INTO participant_spans (id, min_user, max_user, first_hour, last_hour)
  SELECT NEW.id, NEW.user_id, NEW.user_id, min(e.start_time, e.end_time) / 3600000000 - 1,
         max(e.start_time, e.end_time) / 3600000000 + 1
  FROM events e WHERE e.id = NEW.event_id;
END;

CREATE TRIGGER participant_span_delete AFTER DELETE ON event_participants BEGIN
  DELETE FROM participant_spans WHERE id = OLD.id;
END;

CREATE TRIGGER participant_span_move AFTER UPDATE OF start_time, end_time ON events BEGIN
  UPDATE participant_spans
  SET first_hour = min(NEW.start_time, NEW.end_time) / 3600000000 - 1,
      last_hour = max(NEW.start_time, NEW.end_time) / 3600000000 + 1
  WHERE id IN (SELECT id FROM event_participants WHERE event_id = NEW.id);
END;
