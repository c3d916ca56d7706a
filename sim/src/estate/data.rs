//! The estate's data and services: each class of data with its
//! replication and recovery point objective (`[[data]]`), each service
//! with its tier and recovery time objective (`[[services]]`).
//!
//! ```toml
//! [[data]]
//! name = "orders"
//! replication = "synchronous"   # or "stream" with lag, "archive" with interval
//! writes = "2%"                 # of the requests a site serves, or a rate: "40/s"
//! rpo = "0s"
//!
//! [[data]]
//! name = "users"
//! replication = "stream"
//! lag = ["1s", "2s"]            # uniform over the range
//! catch_up = "500/s"            # replay rate after a partition heals
//! writes = "1%"
//! rpo = "5m"
//! change_size = "1kB"           # bytes of one write's change on the wire
//! copies = "all"                # copies that leave: every other site, or a number
//!
//! [[data]]
//! name = "catalogue"
//! replication = "archive"
//! interval = "15m"
//! offset = "0s"                 # when the first copy runs (default 0 s)
//! writes = "0.1%"
//! rpo = "15m"
//!
//! [[services]]
//! name = "core transactions"
//! tier = "P0"
//! rto = "5m"
//! ```

use cutover_models::data::{ChangeTraffic, Copies, DataClass, Replication, Service, WriteRate};
use cutover_models::SimDuration;
use serde::Deserialize;

use crate::scenario::cost::parse_percent;
use crate::scenario::limits;
use crate::scenario::units::{parse_bytes, parse_rate, Duration};
use crate::scenario::{InputError, Source};

/// Most data classes or services an estate may declare.
pub const MAX_CLASSES: usize = 64;

/// The replication modes, as written.
const MODES: &str = "\"synchronous\", \"stream\" (with `lag`) or \"archive\" (with `interval`)";

/// A `[[data]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDataClass {
    name: String,
    replication: String,
    writes: String,
    rpo: Duration,
    lag: Option<[Duration; 2]>,
    interval: Option<Duration>,
    offset: Option<Duration>,
    catch_up: Option<String>,
    change_size: Option<String>,
    copies: Option<RawCopies>,
}

/// A class's `copies` as written: `"all"` or a number.
#[derive(Debug)]
enum RawCopies {
    Count(u64),
    Word(String),
}

impl<'de> Deserialize<'de> for RawCopies {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = RawCopies;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("\"all\" (every other site) or a number of copies, e.g. 1")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<RawCopies, E> {
                Ok(RawCopies::Count(n))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<RawCopies, E> {
                u64::try_from(n)
                    .map(RawCopies::Count)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(n), &self))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<RawCopies, E> {
                Ok(RawCopies::Word(s.to_string()))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// A `[[services]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawService {
    name: String,
    tier: String,
    rto: Duration,
}

/// Validates the `[[data]]` entries.
pub(crate) fn classes(source: &Source, raw: &[RawDataClass]) -> Result<Vec<DataClass>, InputError> {
    named_entries(
        source,
        "data",
        raw,
        |r| &r.name,
        |at, name, r| {
            Ok(DataClass {
                name,
                replication: replication(source, at, r)?,
                writes: writes(source, &format!("{at}.writes"), &r.writes)?,
                rpo: r.rpo.0,
                catch_up: catch_up(source, at, r)?,
                traffic: traffic(source, at, r)?,
            })
        },
    )
}

/// Validates the `[[services]]` entries.
pub(crate) fn services(source: &Source, raw: &[RawService]) -> Result<Vec<Service>, InputError> {
    named_entries(
        source,
        "services",
        raw,
        |r| &r.name,
        |at, name, r| {
            Ok(Service {
                name,
                tier: self::name(source, &format!("{at}.tier"), &r.tier)?,
                rto: r.rto.0,
            })
        },
    )
}

/// Validates the entries of `section`, at most [`MAX_CLASSES`], each
/// with a name no other has, built by `build` from its place (e.g.
/// `data[2]`), its trimmed name and what was written.
fn named_entries<R, T>(
    source: &Source,
    section: &str,
    raw: &[R],
    name_of: impl Fn(&R) -> &String,
    build: impl Fn(&str, String, &R) -> Result<T, InputError>,
) -> Result<Vec<T>, InputError> {
    if raw.len() > MAX_CLASSES {
        return Err(source.field_error(
            section,
            format!("{} entries; allowed: at most {MAX_CLASSES}", raw.len()),
        ));
    }
    let mut names: Vec<String> = Vec::with_capacity(raw.len());
    let mut out = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let at = format!("{section}[{i}]");
        let name = name(source, &format!("{at}.name"), name_of(r))?;
        if names.contains(&name) {
            return Err(source.field_error(
                &format!("{at}.name"),
                format!("`{name}` is declared twice; allowed: a name no other entry of [[{section}]] has"),
            ));
        }
        names.push(name.clone());
        out.push(build(&at, name, r)?);
    }
    Ok(out)
}

fn name(source: &Source, field: &str, text: &str) -> Result<String, InputError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(source.field_error(field, "must not be empty"));
    }
    limits::check_name(source, field, t)?;
    Ok(t.to_string())
}

/// The class's mode with the fields it needs, and none it does not use.
fn replication(source: &Source, at: &str, r: &RawDataClass) -> Result<Replication, InputError> {
    let stray = |field: &str, wants: &str| {
        Err(source.field_error(
            &format!("{at}.{field}"),
            format!(
                "not used by replication = \"{}\"; allowed: `{field}` with replication = \"{wants}\"",
                r.replication
            ),
        ))
    };
    let missing = |field: &str, what: &str| {
        Err(source.field_error(
            at,
            format!(
                "replication = \"{}\" needs `{field}` ({what})",
                r.replication
            ),
        ))
    };
    match r.replication.as_str() {
        "synchronous" | "archive" if r.lag.is_some() => stray("lag", "stream"),
        "synchronous" | "stream" if r.interval.is_some() => stray("interval", "archive"),
        "synchronous" | "stream" if r.offset.is_some() => stray("offset", "archive"),
        "synchronous" => Ok(Replication::Synchronous),
        "stream" => {
            let Some([low, high]) = r.lag else {
                return missing("lag", "its range, e.g. [\"1s\", \"2s\"]");
            };
            if low.0 > high.0 {
                return Err(source.field_error(
                    &format!("{at}.lag"),
                    "allowed: [low, high] with low at most high",
                ));
            }
            Ok(Replication::Stream {
                lag_low: low.0,
                lag_high: high.0,
            })
        }
        "archive" => {
            let Some(interval) = r.interval else {
                return missing("interval", "the time between copies, e.g. \"15m\"");
            };
            if interval.0 == SimDuration::ZERO {
                return Err(
                    source.field_error(&format!("{at}.interval"), "allowed: a duration above zero")
                );
            }
            Ok(Replication::Archive {
                interval: interval.0,
                offset: r.offset.map_or(SimDuration::ZERO, |o| o.0),
            })
        }
        other => Err(source.field_error(
            &format!("{at}.replication"),
            format!("`{other}`; allowed: {MODES}"),
        )),
    }
}

/// A stream's replay rate after a partition, e.g. `"500/s"`.
fn catch_up(source: &Source, at: &str, r: &RawDataClass) -> Result<Option<f64>, InputError> {
    let Some(text) = &r.catch_up else {
        return Ok(None);
    };
    let field = format!("{at}.catch_up");
    if r.replication != "stream" {
        return Err(source.field_error(
            &field,
            format!(
                "not used by replication = \"{}\"; allowed: `catch_up` with replication = \"stream\"",
                r.replication
            ),
        ));
    }
    parse_rate(text)
        .map(Some)
        .map_err(|m| source.field_error(&field, m))
}

/// Most copies a class may send of each change.
const MAX_COPIES: u64 = 1000;

/// What copies may be, for messages.
const COPIES: &str = "\"all\" (every other site) or a number of copies, 1 to 1000";

/// What the class's replication sends: `change_size` and `copies`,
/// both or neither.
fn traffic(
    source: &Source,
    at: &str,
    r: &RawDataClass,
) -> Result<Option<ChangeTraffic>, InputError> {
    let (size, copies) = match (&r.change_size, &r.copies) {
        (None, None) => return Ok(None),
        (Some(s), Some(c)) => (s, c),
        (Some(_), None) => {
            return Err(source.field_error(at, format!("`change_size` needs `copies`: {COPIES}")))
        }
        (None, Some(_)) => {
            return Err(source.field_error(
                &format!("{at}.copies"),
                "needs `change_size`, the bytes of one write's change, e.g. \"2kB\"",
            ))
        }
    };
    let size_field = format!("{at}.change_size");
    let change_bytes = parse_bytes(size).map_err(|m| source.field_error(&size_field, m))?;
    if !(change_bytes > 0.0 && change_bytes <= 1e9) {
        return Err(source.field_error(
            &size_field,
            format!("`{size}`; allowed: above zero, at most 1GB per write"),
        ));
    }
    let copies = match copies {
        RawCopies::Word(w) if w.trim() == "all" => Copies::AllOthers,
        RawCopies::Count(n) if (1..=MAX_COPIES).contains(n) => Copies::Count(*n as u32),
        RawCopies::Word(w) => {
            return Err(
                source.field_error(&format!("{at}.copies"), format!("`{w}`; allowed: {COPIES}"))
            )
        }
        RawCopies::Count(n) => {
            return Err(
                source.field_error(&format!("{at}.copies"), format!("{n}; allowed: {COPIES}"))
            )
        }
    };
    Ok(Some(ChangeTraffic {
        change_bytes,
        copies,
    }))
}

/// `"2%"` of the requests a site serves, or a rate such as `"40/s"`.
fn writes(source: &Source, field: &str, text: &str) -> Result<WriteRate, InputError> {
    let allowed = "allowed: a share of the requests a site serves, e.g. \"2%\" (0 to 100 %), or a rate per site, e.g. \"40/s\"";
    if text.trim().ends_with('%') {
        return match parse_percent(text) {
            Ok(s) if (0.0..=1.0).contains(&s) => Ok(WriteRate::ShareOfRequests(s)),
            _ => Err(source.field_error(field, format!("`{text}`; {allowed}"))),
        };
    }
    parse_rate(text)
        .map(WriteRate::PerSecond)
        .map_err(|_| source.field_error(field, format!("`{text}`; {allowed}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        data: Vec<RawDataClass>,
        #[serde(default)]
        services: Vec<RawService>,
    }

    fn read(text: &str) -> Result<(Vec<DataClass>, Vec<Service>), String> {
        let source = Source::from_text(Path::new("estate.toml"), text.to_string());
        let f: File = source.parse().map_err(|e| e.to_string())?;
        let c = classes(&source, &f.data).map_err(|e| e.to_string())?;
        let s = services(&source, &f.services).map_err(|e| e.to_string())?;
        Ok((c, s))
    }

    #[test]
    fn reads_each_mode_and_a_service() {
        let (c, s) = read(
            r#"
[[data]]
name = "orders"
replication = "synchronous"
writes = "2%"
rpo = "0s"

[[data]]
name = "users"
replication = "stream"
lag = ["1s", "2s"]
catch_up = "400/s"
writes = "40/s"
rpo = "5m"
change_size = "1.5kB"
copies = "all"

[[data]]
name = "catalogue"
replication = "archive"
interval = "15m"
writes = "0.1%"
rpo = "15m"
change_size = "4kB"
copies = 2

[[services]]
name = "checkout"
tier = "P0"
rto = "5m"
"#,
        )
        .unwrap();
        assert_eq!(c[0].replication, Replication::Synchronous);
        assert_eq!(c[0].writes, WriteRate::ShareOfRequests(0.02));
        assert_eq!(
            c[1].replication,
            Replication::Stream {
                lag_low: SimDuration::from_secs(1),
                lag_high: SimDuration::from_secs(2)
            }
        );
        assert_eq!(c[1].writes, WriteRate::PerSecond(40.0));
        assert_eq!(c[1].catch_up, Some(400.0));
        assert_eq!(
            c[1].traffic,
            Some(ChangeTraffic {
                change_bytes: 1500.0,
                copies: Copies::AllOthers
            })
        );
        assert_eq!(c[2].traffic.map(|t| t.copies), Some(Copies::Count(2)));
        assert_eq!(c[0].traffic, None);
        assert_eq!(
            c[2].replication,
            Replication::Archive {
                interval: SimDuration::from_secs(900),
                offset: SimDuration::ZERO
            }
        );
        assert_eq!(s[0].rto, SimDuration::from_secs(300));
        assert_eq!(s[0].tier, "P0");
    }

    fn error_of(text: &str) -> String {
        read(text).unwrap_err()
    }

    #[test]
    fn bad_entries_are_located_and_say_what_is_allowed() {
        let base = "[[data]]\nname = \"users\"\nwrites = \"1%\"\nrpo = \"5m\"\n";
        let e = error_of(&format!("{base}replication = \"stream\"\n"));
        assert!(
            e.contains("estate.toml:1") && e.contains("needs `lag`"),
            "{e}"
        );
        let e = error_of(&format!("{base}replication = \"async\"\n"));
        assert!(
            e.contains(":5:") && e.contains("allowed: \"synchronous\""),
            "{e}"
        );
        let e = error_of(&format!(
            "{base}replication = \"synchronous\"\ninterval = \"1h\"\n"
        ));
        assert!(
            e.contains(":6:") && e.contains("`interval` with replication = \"archive\""),
            "{e}"
        );
        let e = error_of(&format!(
            "{base}replication = \"stream\"\nlag = [\"3s\", \"1s\"]\n"
        ));
        assert!(
            e.contains("data[0].lag") && e.contains("low at most high"),
            "{e}"
        );
        let e = error_of(&format!(
            "{base}replication = \"archive\"\ninterval = \"0s\"\n"
        ));
        assert!(
            e.contains("data[0].interval") && e.contains("above zero"),
            "{e}"
        );
        let e = error_of(
            "[[data]]\nname = \"x\"\nreplication = \"synchronous\"\nwrites = \"150%\"\nrpo = \"0s\"\n",
        );
        assert!(e.contains(":4:") && e.contains("0 to 100 %"), "{e}");
        let e = error_of(
            "[[data]]\nname = \"x\"\nreplication = \"synchronous\"\nwrites = \"40\"\nrpo = \"0s\"\n",
        );
        assert!(
            e.contains("data[0].writes") && e.contains("\"40/s\""),
            "{e}"
        );
        let sync = "[[data]]\nname = \"x\"\nreplication = \"synchronous\"\nwrites = \"1%\"\nrpo = \"0s\"\n";
        let e = error_of(&format!("{sync}change_size = \"2kB\"\n"));
        assert!(e.contains("needs `copies`"), "{e}");
        let e = error_of(&format!("{sync}copies = 1\n"));
        assert!(
            e.contains(":6:") && e.contains("needs `change_size`"),
            "{e}"
        );
        let e = error_of(&format!("{sync}change_size = \"2kB\"\ncopies = \"most\"\n"));
        assert!(e.contains(":7:") && e.contains("\"all\""), "{e}");
        let e = error_of(&format!("{sync}change_size = \"2kB\"\ncopies = 0\n"));
        assert!(
            e.contains("data[0].copies") && e.contains("1 to 1000"),
            "{e}"
        );
        let e = error_of(&format!("{sync}change_size = \"0B\"\ncopies = 1\n"));
        assert!(
            e.contains("data[0].change_size") && e.contains("above zero"),
            "{e}"
        );
        let e = error_of(&format!("{sync}change_size = \"2kB\"\ncopies = 1.5\n"));
        assert!(e.contains(":7:") && e.contains("a number of copies"), "{e}");
        let e = error_of("[[services]]\nname = \"a\"\ntier = \"P0\"\nrto = \"5\"\n");
        assert!(e.contains(":4:") && e.contains("has no unit"), "{e}");
        let e = error_of(
            "[[services]]\nname = \"a\"\ntier = \"P0\"\nrto = \"5m\"\n[[services]]\nname = \"a\"\ntier = \"P1\"\nrto = \"5m\"\n",
        );
        assert!(
            e.contains("services[1].name") && e.contains("declared twice"),
            "{e}"
        );
    }
}
