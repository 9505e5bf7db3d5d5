//! Discovery: which compose services exist, where their compose files are, and what they run.

pub mod compose_file;
