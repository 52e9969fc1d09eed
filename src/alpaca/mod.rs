//! Everything seedctl knows about Alpaca's HTTP APIs. `wire` holds the JSON
//! shapes shared by the client and the simulator; `client` fetches bars from
//! the market data API.

pub mod client;
pub mod wire;
