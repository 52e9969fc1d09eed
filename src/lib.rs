//! seedctl keeps a Postgres table of Alpaca 1-minute stock bars complete for
//! a declared coverage: coverage files give a spec, the NYSE calendar turns it
//! into desired minutes, the ledger says which minutes were already fetched,
//! and the plan is the difference.

pub mod alpaca;
pub mod apply;
pub mod calendar;
pub mod cli;
pub mod commands;
pub mod db;
pub mod domain;
pub mod ledger;
pub mod logging;
pub mod plan;
pub mod preflight;
pub mod secret;
pub mod sim;
pub mod spec;
pub mod status;
pub mod throwaway;
