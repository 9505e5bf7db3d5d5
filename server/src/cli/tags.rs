//! `berth tags pick|sort|compare|classify`: the ranking the engine uses, from the command
//! line, so a user can ask "what would Berth deploy, and why" without a running server.

use std::io::{self, Write};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use crate::ranking::{
    Candidate, LaneMode, Order, Policy, PolicyError, PolicyOptions, Scope, Strategy, classify,
    compare_tags, pick, rank,
};

#[derive(Debug, Args)]
pub struct TagsArgs {
    #[command(subcommand)]
    pub command: TagsCommand,
}

#[derive(Debug, Subcommand)]
pub enum TagsCommand {
    /// Print the tag that should replace --current, or nothing when none is better.
    Pick {
        /// The tag deployed now.
        #[arg(long, value_name = "TAG")]
        current: String,
        #[command(flatten)]
        selection: SelectionArgs,
        /// Print the whole explanation as JSON.
        #[arg(long)]
        json: bool,
        /// The candidate tags.
        #[arg(value_name = "TAG")]
        tags: Vec<String>,
    },
    /// Print the tags in the running, ascending (the best last), one a line.
    Sort {
        /// Rank relative to this tag (its lane, scope and pre-release track).
        #[arg(long, value_name = "TAG")]
        current: Option<String>,
        #[command(flatten)]
        selection: SelectionArgs,
        #[arg(long)]
        json: bool,
        #[arg(value_name = "TAG")]
        tags: Vec<String>,
    },
    /// Print <, =, > or incomparable for A against B.
    Compare {
        #[command(flatten)]
        selection: SelectionArgs,
        a: String,
        b: String,
    },
    /// Print each tag's tier number, tier name, parsed key and lane.
    Classify {
        #[arg(long)]
        json: bool,
        #[arg(value_name = "TAG", required = true)]
        tags: Vec<String>,
    },
}

/// The options of a selection policy, as `ALLOW_TAGS` and per-service options spell them.
#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// tier, semver, alphabetical, numerical, newest-build or digest.
    #[arg(long, default_value = "tier")]
    strategy: Strategy,
    /// Semver constraint (`^1.2`, `~1.0`, `1.2.x`, `>=1.0 <2.0`, `1.2 - 1.4`, `A || B`).
    #[arg(long, value_name = "EXPR")]
    constraint: Option<String>,
    /// `regexp:RE` or a glob; a tag must match one (repeatable).
    #[arg(long, value_name = "PATTERN")]
    allow: Vec<String>,
    /// `regexp:RE` or a glob; a tag matching one is dropped (repeatable).
    #[arg(long, value_name = "GLOB")]
    ignore: Vec<String>,
    /// major, minor, patch or any: how far the version may move.
    #[arg(long, default_value = "any")]
    scope: Scope,
    /// same (stay in the current tag's lane) or any (highest tier, then newest push).
    #[arg(long, default_value = "same")]
    lane: LaneMode,
    /// Admit every pre-release, not only those on the current tag's track.
    #[arg(long)]
    pre_release: bool,
    /// Order by what this template (`$1`, `$name`) takes from the first regexp: allow pattern.
    #[arg(long, value_name = "TEMPLATE")]
    extract: Option<String>,
    /// asc (greatest is best) or desc (smallest is best).
    #[arg(long, default_value = "asc")]
    order: Order,
    /// A tag's push time, for tie-breaks and newest-build (repeatable).
    #[arg(long, value_name = "TAG=RFC3339")]
    pushed: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TagsError {
    #[error("invalid selection options")]
    BuildPolicy(#[source] PolicyError),
    #[error("--pushed {value:?} is not TAG=RFC3339")]
    ParsePushedShape { value: String },
    #[error("--pushed {value:?}: the time is not RFC 3339 (e.g. 2026-01-21T12:30:00Z)")]
    ParsePushedTime {
        value: String,
        #[source]
        source: chrono::ParseError,
    },
    #[error("no pick: {reason}")]
    RefusePick { reason: String },
    #[error("could not encode the explanation as JSON")]
    EncodeJson(#[source] serde_json::Error),
    #[error("could not write the output")]
    WriteOutput(#[source] io::Error),
}

/// Runs `berth tags …`: exit 0 on success, 2 with a message naming the bad input otherwise.
pub fn run(args: TagsArgs) -> ExitCode {
    let mut stdout = io::stdout().lock();
    match execute(args, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut message = format!("berth tags: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

/// The command's work, writing to `out` (separate from `run` so tests can read the output).
pub fn execute(args: TagsArgs, out: &mut impl Write) -> Result<(), TagsError> {
    match args.command {
        TagsCommand::Pick {
            current,
            selection,
            json,
            tags,
        } => {
            let policy = selection.policy()?;
            let candidates = selection.candidates(&tags, Some(&current))?;
            let result = pick(&current, &candidates, &policy);
            if json {
                write_json(out, &result)?;
            } else if let Some(chosen) = &result.chosen {
                writeln!(out, "{chosen}").map_err(TagsError::WriteOutput)?;
            }
            match result.refusal {
                Some(reason) => Err(TagsError::RefusePick { reason }),
                None => Ok(()),
            }
        }
        TagsCommand::Sort {
            current,
            selection,
            json,
            tags,
        } => {
            let policy = selection.policy()?;
            let candidates = selection.candidates(&tags, current.as_deref())?;
            let result = match &current {
                Some(current) => pick(current, &candidates, &policy),
                None => rank(&candidates, &policy),
            };
            if json {
                return write_json(out, &result);
            }
            for tag in result.ranked_ascending() {
                writeln!(out, "{tag}").map_err(TagsError::WriteOutput)?;
            }
            Ok(())
        }
        TagsCommand::Compare { selection, a, b } => {
            let policy = selection.policy()?;
            let answer = match compare_tags(&a, &b, &policy) {
                Some(std::cmp::Ordering::Less) => "<",
                Some(std::cmp::Ordering::Equal) => "=",
                Some(std::cmp::Ordering::Greater) => ">",
                None => "incomparable",
            };
            writeln!(out, "{answer}").map_err(TagsError::WriteOutput)
        }
        TagsCommand::Classify { json, tags } => {
            let classified: Vec<_> = tags.iter().map(|tag| classify(tag)).collect();
            if json {
                return write_json(out, &classified);
            }
            for c in classified {
                let line = format!(
                    "{}\t{}\t{}\t{}\tlane {}",
                    c.tag,
                    c.tier.number(),
                    c.tier_name,
                    c.key,
                    c.lane
                );
                writeln!(out, "{line}").map_err(TagsError::WriteOutput)?;
            }
            Ok(())
        }
    }
}

fn write_json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<(), TagsError> {
    let text = serde_json::to_string_pretty(value).map_err(TagsError::EncodeJson)?;
    writeln!(out, "{text}").map_err(TagsError::WriteOutput)
}

impl SelectionArgs {
    fn policy(&self) -> Result<Policy, TagsError> {
        let options = PolicyOptions {
            allow: self.allow.clone(),
            ignore: self.ignore.clone(),
            strategy: self.strategy,
            constraint: self.constraint.clone(),
            scope: self.scope,
            lane: self.lane,
            pre_release: self.pre_release,
            extract: self.extract.clone(),
            order: self.order,
            ..Default::default()
        };
        Policy::from_options(&options).map_err(TagsError::BuildPolicy)
    }

    /// The candidates with their push times. The current tag is added when missing, so its
    /// own push time can break ties.
    fn candidates(
        &self,
        tags: &[String],
        current: Option<&str>,
    ) -> Result<Vec<Candidate>, TagsError> {
        let mut pushed: Vec<(String, DateTime<Utc>)> = Vec::with_capacity(self.pushed.len());
        for value in &self.pushed {
            let (tag, time) = value
                .split_once('=')
                .ok_or_else(|| TagsError::ParsePushedShape {
                    value: value.clone(),
                })?;
            let time = DateTime::parse_from_rfc3339(time).map_err(|source| {
                TagsError::ParsePushedTime {
                    value: value.clone(),
                    source,
                }
            })?;
            pushed.push((tag.to_owned(), time.with_timezone(&Utc)));
        }
        let mut all: Vec<&str> = tags.iter().map(String::as_str).collect();
        if let Some(current) = current.filter(|c| !all.contains(c)) {
            all.push(current);
        }
        Ok(all
            .into_iter()
            .map(|tag| Candidate {
                tag: tag.to_owned(),
                pushed_at: pushed
                    .iter()
                    .rev()
                    .find(|(t, _)| t == tag)
                    .map(|(_, time)| *time),
                digest: None,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Harness {
        #[command(flatten)]
        args: TagsArgs,
    }

    fn berth_tags(line: &[&str]) -> Result<String, TagsError> {
        let harness = Harness::try_parse_from(std::iter::once("tags").chain(line.iter().copied()))
            .unwrap_or_else(|e| panic!("arguments {line:?}: {e}"));
        let mut out = Vec::new();
        execute(harness.args, &mut out)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn pick_prints_the_chosen_tag_or_nothing() {
        let chosen = berth_tags(&[
            "pick",
            "--current",
            "1.2.3",
            "1.2.4",
            "1.3.0",
            "2.0.0-rc1",
            "latest",
        ]);
        assert_eq!(chosen.ok().as_deref(), Some("1.3.0\n"));
        let none = berth_tags(&["pick", "--current", "1.3.0", "1.2.4"]);
        assert_eq!(none.ok().as_deref(), Some(""));
    }

    #[test]
    fn pick_json_explains_every_candidate() {
        let json = berth_tags(&["pick", "--current", "1.2.3", "--json", "1.2.4", "latest"])
            .unwrap_or_default();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(value["chosen"], "1.2.4");
        let explained: Vec<&str> = value["explanation"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["tag"].as_str())
            .collect();
        assert_eq!(explained, ["1.2.4", "latest", "1.2.3"]);
    }

    #[test]
    fn bad_input_is_an_error_naming_it() {
        let bad_constraint = berth_tags(&[
            "pick",
            "--current",
            "1.0.0",
            "--strategy",
            "semver",
            "--constraint",
            "1.0.0p",
            "1.0.1",
        ]);
        let message = format!("{:?}", bad_constraint.err());
        assert!(message.contains("1.0.0p"), "{message}");
        let bad_pattern = berth_tags(&["sort", "--allow", "regexp:^(v", "v1"]);
        assert!(format!("{:?}", bad_pattern.err()).contains("^(v"));
        let bad_time = berth_tags(&[
            "pick",
            "--current",
            "a1b2c3d",
            "--pushed",
            "a1b2c3d=yesterday",
            "f00ba12",
        ]);
        assert!(
            matches!(bad_time, Err(TagsError::ParsePushedTime { ref value, .. }) if value.contains("yesterday"))
        );
        assert!(Harness::try_parse_from(["tags", "sort", "--strategy", "fastest", "v1"]).is_err());
    }

    #[test]
    fn sort_prints_ascending_and_respects_order() {
        let tags = ["1.10.0", "1.2.0", "1.9.1"];
        let ascending = berth_tags(&[&["sort", "--strategy", "semver"][..], &tags].concat());
        assert_eq!(ascending.ok().as_deref(), Some("1.2.0\n1.9.1\n1.10.0\n"));
        let alphabetical = berth_tags(
            &[
                &["sort", "--strategy", "alphabetical", "--order", "desc"][..],
                &tags,
            ]
            .concat(),
        );
        assert_eq!(alphabetical.ok().as_deref(), Some("1.9.1\n1.2.0\n1.10.0\n"));
    }

    #[test]
    fn pushed_times_break_ties_between_commits() {
        let line = [
            "pick",
            "--current",
            "a1b2c3d",
            "--pushed",
            "a1b2c3d=2026-01-01T00:00:00Z",
            "--pushed",
            "f00ba12=2026-01-02T00:00:00Z",
            "f00ba12",
        ];
        assert_eq!(berth_tags(&line).ok().as_deref(), Some("f00ba12\n"));
    }

    #[test]
    fn compare_and_classify_answer_in_words() {
        assert_eq!(
            berth_tags(&["compare", "1.2.10", "1.2.9"]).ok().as_deref(),
            Some(">\n")
        );
        assert_eq!(
            berth_tags(&["compare", "v1.2.3", "1.2.3"]).ok().as_deref(),
            Some("=\n")
        );
        assert_eq!(
            berth_tags(&["compare", "1.2.3", "1.2.3-alpine"])
                .ok()
                .as_deref(),
            Some("incomparable\n")
        );
        let classified = berth_tags(&["classify", "v1.2.3", "latest"]).unwrap_or_default();
        let tiers: Vec<&str> = classified
            .lines()
            .filter_map(|l| l.split('\t').nth(1))
            .collect();
        assert_eq!(tiers, ["15", "2"]);
    }
}
