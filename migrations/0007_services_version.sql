-- A counter every change to `services` moves, whichever process makes it (berth serve, or a
-- CLI command on the same file): readers keep the table in memory until it moves.
CREATE TABLE services_version (version INTEGER NOT NULL);
INSERT INTO services_version (version) VALUES (0);

CREATE TRIGGER services_version_on_insert AFTER INSERT ON services
BEGIN
    UPDATE services_version SET version = version + 1;
END;

CREATE TRIGGER services_version_on_update AFTER UPDATE ON services
BEGIN
    UPDATE services_version SET version = version + 1;
END;

CREATE TRIGGER services_version_on_delete AFTER DELETE ON services
BEGIN
    UPDATE services_version SET version = version + 1;
END;
