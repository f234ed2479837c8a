-- Fewer pages read per conflict check.
--
-- With a million events (100 users x 10,000) a check read most of its pages from the file (the
-- writer's cache holds little of it): the seeks that found the classes of the user's boxes in
-- event_participants_by_span (one per class, and one more to find there is none left), and for
-- each candidate box its participant row (for event_id) and its event.
--
-- event_id joins the index, so the boxes answer without their rows.
--
-- user_span_classes lists the classes of each user's boxes: a few rows per user, which stay in
-- the cache. The store adds a row when it writes a box of a class new to the user and never
-- removes one: a class the user no longer has costs one empty range of the index.
--
-- (The events' exact times in the index as well would spare the reads of the candidates that do
-- not conflict, 3 of 6 per check at a million events, but they doubled the size of its entries,
-- and with it the pages a batch dirties at random places of it: batches of 1,000 events were 30 %
-- slower.)
DROP INDEX event_participants_by_span;
CREATE INDEX event_participants_by_span
  ON event_participants (user_id, span_class, first_hour, last_hour, event_id);

CREATE TABLE user_span_classes (
  user_id    INTEGER NOT NULL,
  span_class INTEGER NOT NULL,
  PRIMARY KEY (user_id, span_class)
) STRICT, WITHOUT ROWID;

INSERT INTO user_span_classes (user_id, span_class)
SELECT DISTINCT user_id, span_class FROM event_participants;
