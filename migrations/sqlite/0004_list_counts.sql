-- How many events each user takes part in, by role: GET /api/events/ reads its count here in O(1)
-- when no filter needs the events themselves, instead of counting every event of a busy user.
-- Kept in step by the triggers below on every insert, delete (ON DELETE CASCADE included: foreign
-- key actions fire triggers) and change of role or user of event_participants. A row whose n has
-- fallen to 0 stays; it reads the same as no row. (INSERT OR REPLACE on event_participants would
-- delete without firing the delete trigger; the store never uses it, as participant_spans needs.)
CREATE TABLE user_event_counts (
  user_id INTEGER NOT NULL,
  role    TEXT    NOT NULL,
  n       INTEGER NOT NULL,
  PRIMARY KEY (user_id, role)
) STRICT, WITHOUT ROWID;

INSERT INTO user_event_counts (user_id, role, n)
SELECT user_id, role, count(*) FROM event_participants GROUP BY user_id, role;

CREATE TRIGGER user_event_count_insert AFTER INSERT ON event_participants BEGIN
  INSERT INTO user_event_counts (user_id, role, n) VALUES (NEW.user_id, NEW.role, 1)
  ON CONFLICT (user_id, role) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER user_event_count_delete AFTER DELETE ON event_participants BEGIN
  UPDATE user_event_counts SET n = n - 1 WHERE user_id = OLD.user_id AND role = OLD.role;
END;

CREATE TRIGGER user_event_count_update AFTER UPDATE OF user_id, role ON event_participants
WHEN OLD.user_id IS NOT NEW.user_id OR OLD.role IS NOT NEW.role BEGIN
  UPDATE user_event_counts SET n = n - 1 WHERE user_id = OLD.user_id AND role = OLD.role;
  INSERT INTO user_event_counts (user_id, role, n) VALUES (NEW.user_id, NEW.role, 1)
  ON CONFLICT (user_id, role) DO UPDATE SET n = n + 1;
END;
