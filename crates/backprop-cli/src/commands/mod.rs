//! One module per subcommand. What several of them (and the plots) share sits below them, in
//! [`crate::io`].

pub mod evaluate;
pub mod export;
pub mod gradcheck;
pub mod info;
pub mod predict;
pub mod serve;
pub mod show_weights;
pub mod trace;
pub mod train;
