pub mod config;
pub mod job;
pub mod node;

pub use config::*;
pub use job::*;
pub use node::*;
