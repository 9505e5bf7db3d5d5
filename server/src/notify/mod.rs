//! Notifications: each engine event sent once per service and version to the configured
//! channels (issue #11).
