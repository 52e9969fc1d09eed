//! `seedctl calendar`: the built-in NYSE calendar, printed.

use super::{Outcome, print};
use crate::calendar::{self, Calendar};
use crate::cli::CalendarArgs;

pub fn run(args: CalendarArgs) -> anyhow::Result<Outcome> {
    print(&calendar::render(
        Calendar::nyse(),
        args.from,
        args.to,
        args.format,
    )?)?;
    Ok(Outcome::Success)
}
