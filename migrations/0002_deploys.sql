-- What discovery learns about each service, the revision history, and the ignore list.
ALTER TABLE services ADD COLUMN source TEXT NOT NULL DEFAULT 'config';
ALTER TABLE services ADD COLUMN compose_files TEXT NOT NULL DEFAULT '[]';  -- JSON array, -f order
ALTER TABLE services ADD COLUMN project_dir TEXT;
ALTER TABLE services ADD COLUMN unmanageable TEXT;      -- why Berth cannot manage it, if so
ALTER TABLE services ADD COLUMN container_id TEXT;
ALTER TABLE services ADD COLUMN container_status TEXT;
ALTER TABLE services ADD COLUMN current_digest TEXT;
ALTER TABLE services ADD COLUMN pinned_tag TEXT;
ALTER TABLE services ADD COLUMN excluded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE services ADD COLUMN detail TEXT;            -- the last error or explanation, shown as is
ALTER TABLE services ADD COLUMN explanation TEXT;       -- the last ranking explanation, JSON

CREATE TABLE revisions (
    id              INTEGER PRIMARY KEY,
    service_id      INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,                        -- deploy | rollback
    tag             TEXT NOT NULL,
    previous_tag    TEXT,
    index_digest    TEXT,
    platform_digest TEXT,
    pushed_at       TEXT,
    compose_edit    TEXT,                                 -- the ImageEdit as JSON, for revert and recovery
    compose_diff    TEXT NOT NULL DEFAULT '',
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    verdict         TEXT NOT NULL DEFAULT 'in_progress',  -- in_progress | verified | failed | rolled_back
    reason          TEXT,
    log             TEXT NOT NULL DEFAULT '',
    actor           TEXT NOT NULL DEFAULT 'berth'
);
CREATE INDEX revisions_by_service ON revisions (service_id, id);

CREATE TABLE ignored_tags (
    service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    reason     TEXT NOT NULL,
    actor      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (service_id, tag)
);
