-- The conflict check and windowed lists read a candidate's event id from its box in
-- event_participants_by_span. With the id only on the participant row, each candidate box cost a
-- lookup of that row by rowid: with a million events, a page the writer's cache seldom holds, so
-- a read from the file per candidate (18 reads per conflict check, about half of them for these
-- rows). With event_id in the index the boxes answer alone; only the events that pass the box
-- test are read.
DROP INDEX event_participants_by_span;
CREATE INDEX event_participants_by_span
  ON event_participants (user_id, span_class, first_hour, last_hour, event_id);
