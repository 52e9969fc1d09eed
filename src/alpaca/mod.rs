//! Everything seedctl knows about Alpaca's HTTP APIs. `wire` holds the JSON
//! shapes shared by the client and the simulator; it makes no requests itself.

pub mod wire;
