pub mod config;
pub mod game;
pub mod governance;
pub mod job;
pub mod node;
pub mod reputation;
pub mod sortition;

pub use config::*;
pub use game::*;
pub use governance::*;
pub use job::*;
pub use node::*;
pub use reputation::*;
