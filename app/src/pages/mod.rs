mod live;
pub mod overview;
pub mod service;
