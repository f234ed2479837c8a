-- Moving an event's interval boxes cost a scan of the whole R*Tree: the R*Tree cannot look up the
-- ids of an IN (subquery) by rowid, so participant_span_move read every box on every update, and
-- it fired even when the times were set to what they were. Now it fires only when the times
-- change, and joins the event's participants so that each box is found by its id.
DROP TRIGGER participant_span_move;

CREATE TRIGGER participant_span_move AFTER UPDATE OF start_time, end_time ON events
WHEN OLD.start_time IS NOT NEW.start_time OR OLD.end_time IS NOT NEW.end_time
BEGIN
  UPDATE participant_spans
  SET first_hour = min(NEW.start_time, NEW.end_time) / 3600000000 - 1,
      last_hour = max(NEW.start_time, NEW.end_time) / 3600000000 + 1
  FROM (SELECT id AS participant FROM event_participants WHERE event_id = NEW.id) AS moved
  WHERE participant_spans.id = moved.participant;
END;
