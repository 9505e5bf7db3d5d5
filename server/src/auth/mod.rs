//! Dashboard users, sessions and login (issue #7).

/// The users and sessions the dashboard checks requests against.
#[derive(Clone, Default)]
pub struct Auth {}
