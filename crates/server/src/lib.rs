//! The `innoreport` service: configuration, startup and shutdown, shared by the binary and
//! the end-to-end tests (which start the real application on a random port).

pub mod cli;
pub mod config;
pub mod notify;
pub mod startup;

pub use config::{Cli, Command, Config, DemoArgs, LogFormat, TokenArgs, UserCommand};
pub use startup::{Application, StartupError};
