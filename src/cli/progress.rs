//! Progress for runs whose stderr is not a terminal (a log file, `tee`, a SLURM job), where the
//! bars of `indicatif` draw nothing: one line per tenth of the work or per minute, whichever
//! comes first, with the rate and the time left.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Seconds between two lines at most.
const EVERY: Duration = Duration::from_secs(60);

/// Prints `what: done/total units (p %), rate units/s, ETA …` lines on a non-terminal stderr.
#[derive(Debug)]
pub struct LineProgress {
    what: String,
    unit: &'static str,
    on: bool,
    start: Instant,
    last: Instant,
    /// The next tenth to report.
    next_tenth: u64,
}

impl LineProgress {
    /// Line progress for `what` counted in `unit`; silent on a terminal (the bar shows it) or
    /// when `quiet`.
    pub fn new(what: &str, unit: &'static str, quiet: bool) -> LineProgress {
        let now = Instant::now();
        LineProgress {
            what: what.to_string(),
            unit,
            on: !quiet && !std::io::stderr().is_terminal(),
            start: now,
            last: now,
            next_tenth: 1,
        }
    }

    /// Reports `done` of `total` (`extra` appended) when a tenth is crossed or a minute passed.
    pub fn update(&mut self, done: u64, total: u64, extra: &str) {
        if !self.on || total == 0 {
            return;
        }
        let tenth = done * 10 / total;
        let now = Instant::now();
        if tenth < self.next_tenth && now.duration_since(self.last) < EVERY {
            return;
        }
        self.next_tenth = tenth + 1;
        self.last = now;
        let secs = now.duration_since(self.start).as_secs_f64();
        let rate = done as f64 / secs.max(1e-9);
        let eta = if done > 0 && done < total {
            format!(", ETA {}", minutes((total - done) as f64 / rate))
        } else {
            String::new()
        };
        eprintln!(
            "{}: {done}/{total} {} ({} %), {rate:.2} {}/s{eta}{}",
            self.what,
            self.unit,
            done * 100 / total,
            self.unit,
            if extra.is_empty() {
                String::new()
            } else {
                format!(", {extra}")
            }
        );
    }
}

fn minutes(secs: f64) -> String {
    if secs < 90.0 {
        format!("{secs:.0} s")
    } else {
        format!("{:.0} min", secs / 60.0)
    }
}
