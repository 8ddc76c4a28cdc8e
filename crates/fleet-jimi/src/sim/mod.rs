pub mod fleet;
pub mod openapi;
pub mod push;
pub mod roads;
