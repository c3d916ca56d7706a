//! What a TOML file is, told by its top-level sections, and which command
//! reads it.
//!
//! cutover reads several kinds of file: experiments (`[experiment]`) on
//! an estate for `cutover run`; estates (`[estate]`) for `cutover
//! catchment`; the M/M/c scenario (`[mmc]`) for `cutover run` and `sweep`;
//! plan scenarios (`[plan]`) for `cutover plan`; cost scenarios (`[cost]`)
//! for `cutover cost`; consolidation plans (`[pack]`) for `cutover pack`;
//! and fragments that scenarios name: price books
//! (`[book]`) and AS topologies (`[[as]]`, `[[links]]`). A command given
//! the wrong kind says which command reads it instead of complaining about
//! a field.

use super::{InputError, Source};

/// The kind of a cutover TOML file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The M/M/c validation scenario: `[mmc]`.
    Model,
    /// An estate: `[estate]`.
    Estate,
    /// An experiment on an estate: `[experiment]`.
    Experiment,
    /// A migration plan: `[plan]`.
    Plan,
    /// A cost projection: `[cost]`.
    Cost,
    /// A consolidation plan: `[pack]`.
    Pack,
    /// A price book that cost scenarios name: `[book]`.
    PriceBook,
    /// An AS graph that network scenarios name: `[[as]]` and `[[links]]`.
    Topology,
}

impl FileKind {
    /// The kind of the file in `source`, from its top-level sections; a file
    /// that names none is taken for a model scenario, whose loader then says
    /// what is missing.
    pub fn of(source: &Source) -> FileKind {
        let has = |field: &str| source.has_field(field);
        if has("plan") {
            FileKind::Plan
        } else if has("pack") {
            FileKind::Pack
        } else if has("cost") {
            FileKind::Cost
        } else if has("experiment") {
            FileKind::Experiment
        } else if has("estate") {
            FileKind::Estate
        } else if has("book") {
            FileKind::PriceBook
        } else if !has("scenario") && (has("as") || has("links")) {
            FileKind::Topology
        } else {
            FileKind::Model
        }
    }

    /// What the kind is, in words, with the section that marks it.
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::Model => "an M/M/c scenario ([mmc])",
            FileKind::Estate => "an estate ([estate]), which experiments name",
            FileKind::Experiment => "an experiment on an estate ([experiment])",
            FileKind::Plan => "a plan scenario ([plan])",
            FileKind::Cost => "a cost scenario ([cost])",
            FileKind::Pack => "a consolidation plan ([pack])",
            FileKind::PriceBook => "a price book ([book]), which cost scenarios name",
            FileKind::Topology => {
                "an AS topology ([[as]] and [[links]]), which network scenarios name"
            }
        }
    }

    /// The command that reads this kind of file, if one does on its own.
    pub fn command(self) -> Option<&'static str> {
        match self {
            FileKind::Model | FileKind::Experiment => Some("cutover run"),
            FileKind::Estate => Some("cutover catchment"),
            FileKind::Plan => Some("cutover plan"),
            FileKind::Cost => Some("cutover cost"),
            FileKind::Pack => Some("cutover pack"),
            FileKind::PriceBook | FileKind::Topology => None,
        }
    }
}

/// Checks that `source` is of kind `expected`, read by `command`; otherwise
/// an error at the file's first line naming what the file is and the
/// command that reads it.
pub fn expect(source: &Source, expected: FileKind, command: &str) -> Result<(), InputError> {
    expect_one_of(source, &[expected], command).map(|_| ())
}

/// Checks that `source` is of one of the kinds `command` reads; otherwise
/// an error as [`expect`] gives.
pub fn expect_one_of(
    source: &Source,
    kinds: &[FileKind],
    command: &str,
) -> Result<FileKind, InputError> {
    let found = FileKind::of(source);
    if kinds.contains(&found) {
        return Ok(found);
    }
    let file = source.path().display();
    let instead = match found.command() {
        Some(cmd) => format!("run it with `{cmd} {file}`"),
        None => format!("name it from a scenario, or check it with `cutover validate {file}`"),
    };
    Err(source.field_error(
        "",
        format!(
            "this is {}, which `{command}` does not read; {instead}. `{command}` reads {}",
            found.describe(),
            kinds
                .iter()
                .map(|k| k.describe())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn kind(text: &str) -> FileKind {
        FileKind::of(&Source::from_text(Path::new("f.toml"), text.to_string()))
    }

    #[test]
    fn top_level_sections_tell_the_kind() {
        assert_eq!(kind("[scenario]\nname = \"a\"\n[mmc]\n"), FileKind::Model);
        assert_eq!(kind("[scenario]\nname = \"a\"\n[plan]\n"), FileKind::Plan);
        assert_eq!(kind("[scenario]\nname = \"a\"\n[cost]\n"), FileKind::Cost);
        assert_eq!(kind("[book]\nname = \"b\"\n"), FileKind::PriceBook);
        assert_eq!(kind("[pack]\nname = \"p\"\n"), FileKind::Pack);
        assert_eq!(kind("[[as]]\nasn = 1\n"), FileKind::Topology);
        assert_eq!(kind("not toml ["), FileKind::Model);
    }

    #[test]
    fn the_wrong_kind_names_the_right_command() {
        let src = Source::from_text(Path::new("p.toml"), "[plan]\n".to_string());
        let err = expect(&src, FileKind::Model, "cutover run").unwrap_err();
        let err = err.to_string();
        assert!(
            err.starts_with("p.toml:1:1: this is a plan scenario ([plan]), which `cutover run` does not read; run it with `cutover plan p.toml`"),
            "{err}"
        );
    }
}
