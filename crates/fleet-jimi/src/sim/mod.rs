pub mod fleet;
pub mod push;
pub mod roads;
