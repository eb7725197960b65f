-- Raw PostgreSQL baseline for the check-in bench: a check-in's own statements as plain SQL,
-- insert the stay and log the scan, in one transaction (tables made by bench/checkin_bench.py).
\set u random(1, 1000000)
BEGIN;
INSERT INTO bench_raw_checkins (event_id, user_id, at) VALUES (1, :u, now()) ON CONFLICT DO NOTHING;
INSERT INTO bench_raw_scans (user_id, at, result) VALUES (:u, now(), 'checked_in');
END;
