pub mod config;
pub mod governance;
pub mod job;
pub mod node;
pub mod reputation;
pub mod sortition;

pub use config::*;
pub use governance::*;
pub use job::*;
pub use node::*;
pub use reputation::*;
