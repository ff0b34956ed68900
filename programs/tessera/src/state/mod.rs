pub mod config;
pub mod game;
pub mod governance;
pub mod input_buffer;
pub mod job;
pub mod node;
pub mod reputation;
pub mod sortition;

pub use config::*;
pub use game::*;
pub use governance::*;
pub use input_buffer::*;
pub use job::*;
pub use node::*;
pub use reputation::*;
