-- Notifications already sent (or being sent), one row per channel and event: the key that
-- makes "update available" go out once per service and version, across restarts.
CREATE TABLE notifications_sent (
    channel   TEXT NOT NULL,   -- the channel's name (NOTIFY_<NAME>_URL), or urlN for NOTIFY_URLS
    kind      TEXT NOT NULL,   -- update_available, deploy_started, deploy_verified, ...
    subject   TEXT NOT NULL,   -- the service id, or the registry host
    version   TEXT NOT NULL,   -- the tag or digest, the revision, or the image
    sent_at   TEXT NOT NULL,
    PRIMARY KEY (channel, kind, subject, version)
);
