-- Who shared an event with whom, changed a role or removed someone, and when (Unix
-- microseconds). No foreign key to events: the trail outlives the event it speaks of.
CREATE TABLE participant_audit (
  id         INTEGER PRIMARY KEY,
  event_id   INTEGER NOT NULL,
  actor_id   INTEGER NOT NULL,
  action     TEXT    NOT NULL
             CHECK (action IN ('shared', 'role_changed', 'removed', 'ownership_transferred')),
  subject_id INTEGER NOT NULL,
  role       TEXT    CHECK (role IN ('OWNER', 'EDITOR', 'VIEWER')),
  at         INTEGER NOT NULL
) STRICT;

CREATE INDEX participant_audit_by_event ON participant_audit (event_id, id);
