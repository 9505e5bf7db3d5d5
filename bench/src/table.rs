//! The one table the benchmark prints: each figure beside its target, with pass or miss.

/// What a figure is judged against.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// Lower is better: pass when the figure is below (or at) the bound.
    AtMost(f64),
    /// Only informative.
    None,
}

pub struct Row {
    pub measure: String,
    pub figure: Option<f64>,
    pub unit: &'static str,
    pub target: Target,
    /// What was real and what stood in, or why the figure is missing.
    pub note: String,
}

#[derive(Default)]
pub struct Table {
    rows: Vec<Row>,
}

impl Table {
    pub fn add(
        &mut self,
        measure: impl Into<String>,
        figure: Option<f64>,
        unit: &'static str,
        target: Target,
        note: impl Into<String>,
    ) {
        self.rows.push(Row {
            measure: measure.into(),
            figure,
            unit,
            target,
            note: note.into(),
        });
    }

    /// How many judged rows missed their target (a missing figure counts as a miss).
    pub fn misses(&self) -> usize {
        self.rows
            .iter()
            .filter(|row| matches!(verdict(row), "MISS" | "n/a"))
            .count()
    }

    /// A Markdown table, readable in a terminal and pasteable into notes.
    pub fn render(&self, judged: bool) -> String {
        let header = ["measure", "figure", "target", "result", "notes"];
        let cells: Vec<[String; 5]> = self
            .rows
            .iter()
            .map(|row| {
                [
                    row.measure.clone(),
                    row.figure
                        .map_or("–".to_owned(), |value| format_value(value, row.unit)),
                    match row.target {
                        Target::AtMost(bound) => format!("≤ {}", format_value(bound, row.unit)),
                        Target::None => String::new(),
                    },
                    if judged {
                        verdict(row).to_owned()
                    } else {
                        String::new()
                    },
                    row.note.clone(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &cells {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |row: &[String]| {
            let padded: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let mut text = line(&header.map(str::to_owned));
        text.push_str(&line(&widths.map(|width| "-".repeat(width))));
        for row in &cells {
            text.push_str(&line(row));
        }
        text
    }
}

fn verdict(row: &Row) -> &'static str {
    match (row.target, row.figure) {
        (Target::None, _) => "",
        (Target::AtMost(_), None) => "n/a",
        (Target::AtMost(bound), Some(value)) if value <= bound => "pass",
        (Target::AtMost(_), Some(_)) => "MISS",
    }
}

fn format_value(value: f64, unit: &str) -> String {
    match unit {
        "ms" if value < 10.0 => format!("{value:.2} ms"),
        "ms" => format!("{value:.0} ms"),
        "s" => format!("{value:.3} s"),
        "MB" => format!("{value:.1} MB"),
        "KB" => format!("{value:.1} KB"),
        "" => format!("{value:.3}"),
        other if value.fract() == 0.0 => format!("{value:.0} {other}"),
        other => format!("{value:.2} {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_passes_at_or_under_its_bound_and_a_missing_one_counts_as_a_miss() {
        let mut table = Table::default();
        table.add("under", Some(24.9), "MB", Target::AtMost(25.0), "");
        table.add("at", Some(25.0), "MB", Target::AtMost(25.0), "");
        table.add("over", Some(25.1), "MB", Target::AtMost(25.0), "");
        table.add("absent", None, "MB", Target::AtMost(25.0), "");
        table.add("informative", Some(99.0), "MB", Target::None, "");
        assert_eq!(table.misses(), 2);
        let judged = table.render(true);
        let result = |measure: &str| {
            judged
                .lines()
                .find(|line| line.starts_with(&format!("| {measure} ")))
                .map(|line| line.split('|').nth(4).unwrap_or_default().trim().to_owned())
        };
        assert_eq!(result("under").as_deref(), Some("pass"));
        assert_eq!(result("at").as_deref(), Some("pass"));
        assert_eq!(result("over").as_deref(), Some("MISS"));
        assert_eq!(result("absent").as_deref(), Some("n/a"));
        assert_eq!(result("informative").as_deref(), Some(""));
        assert!(judged.contains("≤ 25.0 MB"));
    }

    #[test]
    fn an_unjudged_table_prints_figures_without_verdicts() {
        let mut table = Table::default();
        table.add("over", Some(26.0), "MB", Target::AtMost(25.0), "a note");
        let text = table.render(false);
        assert!(text.contains("26.0 MB") && text.contains("a note"));
        assert!(!text.contains("MISS"));
    }
}
