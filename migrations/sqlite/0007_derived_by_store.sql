-- participant_spans (the interval boxes of conflict detection) and user_event_counts (the list
-- counts) are now kept in step by the store's own statements instead of triggers on
-- event_participants and events. A trigger ran as a sub-program per row with its own frame, and
-- made every insert into event_participants a statement that needs a statement journal. Without
-- them the writer executes 7.8 % fewer instructions per created event (280k -> 258k in the job,
-- 389k -> 367k with its commit) and 11 % fewer per event of a large job; an update that moves an
-- event costs the same (callgrind over bench/micro/write_store_bench, 2,000 operations each).
-- The store is the only writer of event_participants: it inserts, re-roles and deletes those rows
-- only in sqlite_store.cpp, next to the matching box and count. Nothing deletes users, so the
-- ON DELETE CASCADE of event_participants never runs; a tool that ever deletes users or rows of
-- event_participants must drop their boxes and counts in the same transaction.
DROP TRIGGER participant_span_insert;
DROP TRIGGER participant_span_delete;
DROP TRIGGER participant_span_move;
DROP TRIGGER user_event_count_insert;
DROP TRIGGER user_event_count_delete;
DROP TRIGGER user_event_count_update;
