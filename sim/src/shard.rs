//! Sharding: one run's replications (or a sweep's cells) split over
//! processes or machines, and the partial directories put back together.
//!
//! A run of `n` units (replications of a plan, cells of a sweep) split
//! into `N` shards gives shard `K` (0 <= K < N) the units
//! `floor(n K / N) .. floor(n (K + 1) / N)`. A unit's random stream depends
//! only on the run seed and its own index (see
//! [`montecarlo::replicate_range`](crate::montecarlo::replicate_range)),
//! never on the shard, so the shards together run exactly the units of
//! the single run.
//!
//! A shard writes a partial directory: the per-unit records (the raw data
//! the summary is computed from) and [`SHARD_FILE`], a manifest that says
//! which run and which part of it they are. [`read_parts`] reads and checks
//! the partial directories of one run; the merge then computes every output
//! from the records with the code the single run uses.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::outdir::MANIFEST;
use crate::scenario::source::hashing_inputs;

/// The manifest of a partial directory.
pub const SHARD_FILE: &str = "shard.json";

/// Shards of one run at most: the bound Kubernetes puts on an Indexed
/// Job's parallelism (10^5, the `completionMode` doc of `JobSpec` in
/// `pkg/apis/batch/types.go`); more is surely a typo.
pub const MAX_SHARDS: u64 = 100_000;

/// One shard of a run: the `index`-th (from 0) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shard {
    /// Which shard, 0 to `count - 1`.
    pub index: u64,
    /// How many shards the run is split into.
    pub count: u64,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Reads `K/N` as written on the command line (`--shard 2/4`).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let allowed = format!(
            "allowed: K/N with N from 1 to {MAX_SHARDS} and K from 0 to N - 1, such as 0/4 \
             (Slurm: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-(N-1))"
        );
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` has no `/`; {allowed}"))?;
        let number = |s: &str| s.trim().parse::<u64>().ok();
        match (number(k), number(n)) {
            (Some(index), Some(count)) if (1..=MAX_SHARDS).contains(&count) && index < count => {
                Ok(Shard { index, count })
            }
            _ => Err(format!("`{text}` is not a shard; {allowed}")),
        }
    }

    /// The units of a run of `total` that this shard runs.
    pub fn range(&self, total: u64) -> Range<u64> {
        let at = |k: u64| (u128::from(total) * u128::from(k) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }
}

/// Which command wrote a partial directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// `cutover plan --replications R --shard K/N`: replication rows.
    Plan,
    /// `cutover sweep --shard K/N`: cells (combination, replication).
    Sweep,
}

/// What a partial directory says about itself ([`SHARD_FILE`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardManifest {
    /// The command that wrote it.
    pub command: Command,
    /// The cutover version that wrote it.
    pub cutover_version: String,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file, absolute, which the merge reads again.
    pub scenario_file: PathBuf,
    /// SHA-256 of every input file the scenario read (see
    /// [`hashing_inputs`]).
    pub inputs_sha256: String,
    /// The run seed.
    pub seed: u64,
    /// Replications (of the plan, or of each sweep combination).
    pub replications: u64,
    /// Units of the whole run: replications, or sweep cells.
    pub units: u64,
    /// This shard's index, from 0.
    pub shard: u64,
    /// Shards of the run.
    pub shards: u64,
    /// The first unit this shard ran.
    pub first: u64,
    /// One past the last unit this shard ran.
    pub end: u64,
}

impl ShardManifest {
    /// The manifest of `shard` of a run of `units` units.
    pub fn new(command: Command, run: RunIdentity, shard: Shard, units: u64) -> Self {
        let range = shard.range(units);
        ShardManifest {
            command,
            cutover_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: run.scenario,
            scenario_file: run.scenario_file,
            inputs_sha256: run.inputs_sha256,
            seed: run.seed,
            replications: run.replications,
            units,
            shard: shard.index,
            shards: shard.count,
            first: range.start,
            end: range.end,
        }
    }

    /// The units this shard ran.
    pub fn range(&self) -> Range<u64> {
        self.first..self.end
    }

    /// The manifest as written into the partial directory.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// What identifies a run whatever its shard: its scenario (name, file,
/// inputs), seed and replications.
#[derive(Debug, Clone, PartialEq)]
pub struct RunIdentity {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file, made absolute.
    pub scenario_file: PathBuf,
    /// SHA-256 of the input files.
    pub inputs_sha256: String,
    /// The run seed.
    pub seed: u64,
    /// Replications.
    pub replications: u64,
}

impl RunIdentity {
    /// The identity of a run of `file` (made absolute against the current
    /// directory) with the scenario `name` whose inputs hash to `hash`.
    pub fn new(file: &Path, name: &str, hash: String, seed: u64, replications: u64) -> Self {
        let scenario_file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        RunIdentity {
            scenario: name.to_string(),
            scenario_file,
            inputs_sha256: hash,
            seed,
            replications,
        }
    }
}

/// Why partial directories cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No directory was given.
    #[error("no directories to merge; allowed: the partial directories of every shard of one run")]
    NoDirectories,
    /// A directory is not a partial directory cutover wrote.
    #[error("{}: not a shard's directory: {reason}; allowed: directories written by `cutover plan --shard K/N` or `cutover sweep --shard K/N`", dir.display())]
    NotAShard {
        /// The directory.
        dir: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Two directories come from different runs.
    #[error("{} and {} come from different runs: {what} {first_value} against {second_value}; merge only the shards of one run (same scenario files, seed, replications, shard count and cutover version)", first.display(), second.display())]
    Differ {
        /// What differs.
        what: &'static str,
        /// The first directory.
        first: PathBuf,
        /// Its value.
        first_value: String,
        /// The other directory.
        second: PathBuf,
        /// Its value.
        second_value: String,
    },
    /// The shards were written by another version of cutover.
    #[error("{}: written by cutover {theirs}, and this is cutover {ours}; merge with the version that ran the shards", dir.display())]
    Version {
        /// The directory.
        dir: PathBuf,
        /// Its version.
        theirs: String,
        /// This binary's version.
        ours: String,
    },
    /// One shard was given twice.
    #[error("shard {shard} is given twice: {} and {}; give each shard once", first.display(), second.display())]
    Duplicate {
        /// The shard.
        shard: Shard,
        /// One directory.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// Shards are missing.
    #[error("shards {} of {count} are missing (given: {}); run each missing one (`--shard K/{count}`) and merge all {count}", missing.join(", "), given.join(", "))]
    Missing {
        /// The missing shards, as K/N.
        missing: Vec<String>,
        /// The shards given.
        given: Vec<String>,
        /// Shards of the run.
        count: u64,
    },
    /// The scenario's files changed since the shards ran.
    #[error("{}: the scenario's input files changed since the shards ran (SHA-256 {then} then, {now} now); restore them or run the shards again", file.display())]
    InputsChanged {
        /// The scenario file.
        file: PathBuf,
        /// The hash the shards recorded.
        then: String,
        /// The hash now.
        now: String,
    },
    /// A shard's records do not match its manifest.
    #[error("{}: {reason}; run that shard again", path.display())]
    Records {
        /// The records file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A partial directory and its manifest.
#[derive(Debug, Clone)]
pub struct Part {
    /// The directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: ShardManifest,
}

impl Part {
    /// Reads the records file `name` of this part.
    pub fn read(&self, name: &str) -> Result<String, MergeError> {
        let path = self.dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| MergeError::Records {
            path,
            reason: format!("cannot read it: {e}"),
        })
    }

    /// An error about the records file `name` of this part.
    pub fn records_error(&self, name: &str, reason: String) -> MergeError {
        MergeError::Records {
            path: self.dir.join(name),
            reason,
        }
    }
}

/// Reads the manifest of the partial directory `dir`.
fn read_part(dir: &Path) -> Result<Part, MergeError> {
    let not_a_shard = |reason: String| MergeError::NotAShard {
        dir: dir.to_path_buf(),
        reason,
    };
    if !dir.is_dir() {
        return Err(not_a_shard("it is not a directory".to_string()));
    }
    let run_info = std::fs::read_to_string(dir.join(MANIFEST))
        .map_err(|_| not_a_shard(format!("it has no {MANIFEST}")))?;
    let run_info: serde_json::Value = serde_json::from_str(&run_info)
        .map_err(|e| not_a_shard(format!("its {MANIFEST} is not JSON ({e})")))?;
    if run_info.get("tool").and_then(|t| t.as_str()) != Some("cutover") {
        return Err(not_a_shard(format!(
            "its {MANIFEST} was not written by cutover"
        )));
    }
    let text = std::fs::read_to_string(dir.join(SHARD_FILE))
        .map_err(|_| not_a_shard(format!("it has no {SHARD_FILE}")))?;
    let manifest: ShardManifest = serde_json::from_str(&text)
        .map_err(|e| not_a_shard(format!("its {SHARD_FILE} cannot be read: {e}")))?;
    let expected = Shard {
        index: manifest.shard,
        count: manifest.shards,
    };
    if manifest.shards == 0
        || manifest.shard >= manifest.shards
        || expected.range(manifest.units) != manifest.range()
    {
        return Err(not_a_shard(format!(
            "its {SHARD_FILE} names shard {}/{} with units {}..{} of {}, which do not go together",
            manifest.shard, manifest.shards, manifest.first, manifest.end, manifest.units
        )));
    }
    Ok(Part {
        dir: dir.to_path_buf(),
        manifest,
    })
}

/// The fields that must agree between the shards of one run.
type Field = (&'static str, fn(&ShardManifest) -> String);

/// What must be the same in every shard of one run, in the order checked.
const SAME_RUN: [Field; 7] = [
    ("command", |m| format!("{:?}", m.command).to_lowercase()),
    ("cutover version", |m| m.cutover_version.clone()),
    ("scenario inputs (SHA-256)", |m| m.inputs_sha256.clone()),
    ("seed", |m| m.seed.to_string()),
    ("replications", |m| m.replications.to_string()),
    ("units", |m| m.units.to_string()),
    ("shard count", |m| m.shards.to_string()),
];

/// Reads the partial directories `dirs` (in any order) and checks that they
/// are every shard of one run, each once, written by this version of
/// cutover. The parts come back in shard order.
pub fn read_parts(dirs: &[PathBuf]) -> Result<Vec<Part>, MergeError> {
    let parts = dirs
        .iter()
        .map(|d| read_part(d))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(first) = parts.first() else {
        return Err(MergeError::NoDirectories);
    };
    for other in &parts[1..] {
        for (what, value) in SAME_RUN {
            let (a, b) = (value(&first.manifest), value(&other.manifest));
            if a != b {
                return Err(MergeError::Differ {
                    what,
                    first: first.dir.clone(),
                    first_value: a,
                    second: other.dir.clone(),
                    second_value: b,
                });
            }
        }
    }
    let ours = env!("CARGO_PKG_VERSION");
    if first.manifest.cutover_version != ours {
        return Err(MergeError::Version {
            dir: first.dir.clone(),
            theirs: first.manifest.cutover_version.clone(),
            ours: ours.to_string(),
        });
    }
    let count = first.manifest.shards;
    let mut by_index: BTreeMap<u64, Part> = BTreeMap::new();
    for part in parts.iter().cloned() {
        if let Some(seen) = by_index.get(&part.manifest.shard) {
            return Err(MergeError::Duplicate {
                shard: Shard {
                    index: part.manifest.shard,
                    count,
                },
                first: seen.dir.clone(),
                second: part.dir,
            });
        }
        by_index.insert(part.manifest.shard, part);
    }
    let missing: Vec<String> = (0..count)
        .filter(|k| !by_index.contains_key(k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing,
            given: by_index.keys().map(|k| format!("{k}/{count}")).collect(),
            count,
        });
    }
    Ok(by_index.into_values().collect())
}

/// Loads the scenario the shards ran, with `load`, from the file their
/// manifest names, and checks that its input files still hash as they did.
pub fn load_scenario<T, E>(
    manifest: &ShardManifest,
    load: impl FnOnce(&Path) -> Result<T, E>,
) -> anyhow::Result<T>
where
    E: Into<anyhow::Error>,
{
    let file = &manifest.scenario_file;
    let (loaded, now) = hashing_inputs(|| load(file));
    let loaded = loaded.map_err(Into::into)?;
    if now != manifest.inputs_sha256 {
        return Err(MergeError::InputsChanged {
            file: file.clone(),
            then: manifest.inputs_sha256.clone(),
            now,
        }
        .into());
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_every_unit_once_in_order() {
        for total in [0, 1, 5, 7, 100] {
            for count in 1..=9 {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard { index, count }.range(total);
                    assert_eq!(r.start, next, "{index}/{count} of {total}");
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
        assert_eq!(Shard { index: 1, count: 4 }.range(10), 2..5);
    }

    #[test]
    fn nothing_to_merge_is_refused() {
        let err = read_parts(&[]).unwrap_err().to_string();
        assert!(err.starts_with("no directories to merge"), "{err}");
    }

    #[test]
    fn a_shard_is_read_as_k_of_n_from_zero() {
        assert_eq!(Shard::parse("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(Shard::parse("3/4").unwrap().to_string(), "3/4");
        for bad in ["4/4", "1/0", "x/2", "3", "-1/2", "1/100001"] {
            let err = Shard::parse(bad).unwrap_err();
            assert!(err.contains("allowed: K/N"), "{bad}: {err}");
        }
    }
}
