mod containers;
pub mod header;
mod live;
pub mod login;
pub mod overview;
pub mod registries;
pub mod service;
pub mod sync_hydrate;
