//! Deploying one service: edit its compose file, pull, recreate, verify, and record it all
//! as a revision; roll back by itself when verification fails.

pub mod compose;
pub mod failpoint;
pub mod health;
pub mod locks;
pub mod login_folder;
pub mod retry;
pub mod rollout;
pub mod scanning;
mod undo;
