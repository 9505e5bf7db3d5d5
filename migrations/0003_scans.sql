-- Trivy scans of deployed images (and gate scans of candidates), kept with their revision.
CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    service_id  INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    revision_id INTEGER REFERENCES revisions (id) ON DELETE CASCADE,
    image       TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    risk_score  INTEGER NOT NULL,
    summary     TEXT NOT NULL,   -- counts by severity, JSON
    outcome     TEXT NOT NULL    -- the parsed report and Trivy's own JSON, for downloads
);
CREATE INDEX scans_by_revision ON scans (revision_id);
