//! `hozon report ARCHIVE --from D --to D`: the auditor's report as HTML, CSV or JSON.

use anyhow::Context;

use crate::cli::args::ReportArgs;
use crate::cli::{clock, Ctx};
use crate::EXIT_OK;

pub fn exec(ctx: &Ctx, a: ReportArgs) -> anyhow::Result<u8> {
    let clock = clock()?;
    let from_t = hozon::clock::parse_datetime(&a.from)
        .with_context(|| format!("--from {:?}: use YYYY-MM-DD or RFC 3339", a.from))?;
    let mut to_t = hozon::clock::parse_datetime(&a.to)
        .with_context(|| format!("--to {:?}: use YYYY-MM-DD or RFC 3339", a.to))?;
    if a.to.len() == 10 {
        to_t += time::Duration::days(1); // a plain date includes that whole day
    }
    let (from_t, to_t) = (
        from_t.replace_offset(hozon::archive::layout::JST),
        to_t.replace_offset(hozon::archive::layout::JST),
    );
    let rep = hozon::ops::report::build(&a.archive, from_t, to_t, clock.now())?;
    let text = match a.format.as_str() {
        "csv" => hozon::ops::report::to_csv(&rep),
        "json" => serde_json::to_string_pretty(&rep)? + "\n",
        _ => hozon::ops::report::to_html(&rep, ctx.lang),
    };
    match a.output {
        Some(p) => hozon::archive::atomic::write_atomic(&p, text.as_bytes())
            .with_context(|| format!("cannot write {}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(EXIT_OK)
}
