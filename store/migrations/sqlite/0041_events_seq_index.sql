-- No query reads events by (conversation_id, seq): conversations are read
-- by cursor (events_conversation_cursor) and retries by idempotency key.
-- The unique index only re-checked what the single committer already
-- guarantees on SQLite (seq comes from the conversation row inside the one
-- write transaction), and it cost every message a random page write: about
-- 30 % of the bytes written to the WAL per event and 10 % of the store's
-- CPU (BenchmarkAppend/sqlite/parallel500). PostgreSQL, where several nodes
-- append, keeps it.
DROP INDEX IF EXISTS events_conversation_seq;
