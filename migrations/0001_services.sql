-- The services Berth manages or has detected, and the event log.
CREATE TABLE services (
    id              INTEGER PRIMARY KEY,
    project         TEXT NOT NULL,
    name            TEXT NOT NULL,
    -- the image repository without tag, e.g. 127.0.0.1:5000/team/app
    image           TEXT NOT NULL,
    current_tag     TEXT,
    best_candidate  TEXT,
    state           TEXT NOT NULL DEFAULT 'unknown',
    last_checked_at TEXT,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (project, name)
);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    service_id  INTEGER REFERENCES services (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL DEFAULT 'berth',
    detail      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_service ON events (service_id, id);
