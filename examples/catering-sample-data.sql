-- Sample data for rehearsing runbook 004 (catering staffing MVP) in the sandbox:
--   launchplan sandbox psql staging < examples/catering-sample-data.sql
-- Invented people and events; nothing here is real.
CREATE TABLE IF NOT EXISTS staff (
  id serial PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('server', 'bartender', 'chef', 'captain'))
);
CREATE TABLE IF NOT EXISTS events (
  id serial PRIMARY KEY,
  client text NOT NULL,
  starts_at timestamptz NOT NULL,
  guests integer NOT NULL CHECK (guests > 0)
);
CREATE TABLE IF NOT EXISTS shifts (
  id serial PRIMARY KEY,
  event_id integer NOT NULL REFERENCES events (id),
  staff_id integer NOT NULL REFERENCES staff (id),
  UNIQUE (event_id, staff_id)
);
TRUNCATE shifts, events, staff RESTART IDENTITY;
INSERT INTO staff (name, role)
SELECT 'Staff member ' || n, (ARRAY['server', 'bartender', 'chef', 'captain'])[1 + n % 4]
FROM generate_series(1, 40) AS n;
INSERT INTO events (client, starts_at, guests)
SELECT 'Client ' || n, timestamptz '2026-12-01 18:00-08' + n * interval '1 day', 20 + n * 5
FROM generate_series(1, 12) AS n;
INSERT INTO shifts (event_id, staff_id)
SELECT e.id, s.id FROM events e JOIN staff s ON (s.id + e.id) % 5 = 0;
