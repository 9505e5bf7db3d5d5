//! The Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` lines, then
//! one line per sample, `name{label="value",…} number`. Written by hand because it is this
//! small; the escaping rules are the format's own (backslash, double quote and newline in
//! label values; backslash and newline in help text).

use std::fmt::Write;

use super::counters::Histogram;

/// The `Content-Type` of this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A metrics page being written, one family at a time.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    /// Start a family: its samples follow until the next family.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let help = help.replace('\\', r"\\").replace('\n', r"\n");
        // Writing to a String cannot fail.
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {}", kind.as_str());
    }

    /// One sample of a whole number (counters, and gauges that count things).
    pub fn count(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.line(name, labels, &value.to_string());
    }

    /// One sample of a real number.
    pub fn value(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.line(name, labels, &number(value));
    }

    /// A histogram's `_bucket` (cumulative, with `le`), `_sum` and `_count` samples.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], histogram: &Histogram) {
        let bucket = format!("{name}_bucket");
        for (bound, count) in histogram.cumulative() {
            let le = number(bound);
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            self.line(&bucket, &with_le, &count.to_string());
        }
        self.value(&format!("{name}_sum"), labels, histogram.sum);
        self.count(&format!("{name}_count"), labels, histogram.count);
    }

    pub fn finish(self) -> String {
        self.text
    }

    fn line(&mut self, name: &str, labels: &[(&str, &str)], value: &str) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (index, (label, label_value)) in labels.iter().enumerate() {
                if index > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{}\"", escape_label(label_value));
            }
            self.text.push('}');
        }
        self.text.push(' ');
        self.text.push_str(value);
        self.text.push('\n');
    }
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', r#"\""#)
        .replace('\n', r"\n")
}

/// Go's float spelling, which Prometheus parses: `+Inf`, `-Inf`, `NaN`, else plain digits.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value == f64::INFINITY {
        "+Inf".to_owned()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut page = Exposition::default();
        page.family("berth_x", Kind::Gauge, "a \\ b\nc");
        page.count("berth_x", &[("name", "say \"hi\"\\\n")], 3);
        assert_eq!(
            page.finish(),
            "# HELP berth_x a \\\\ b\\nc\n# TYPE berth_x gauge\nberth_x{name=\"say \\\"hi\\\"\\\\\\n\"} 3\n"
        );
    }

    #[test]
    fn a_histogram_is_cumulative_and_ends_with_inf() {
        let mut histogram = Histogram::new(&[0.5, 1.0]);
        histogram.observe(0.25);
        histogram.observe(2.0);
        let mut page = Exposition::default();
        page.histogram("berth_h_seconds", &[], &histogram);
        assert_eq!(
            page.finish(),
            "berth_h_seconds_bucket{le=\"0.5\"} 1\n\
             berth_h_seconds_bucket{le=\"1\"} 1\n\
             berth_h_seconds_bucket{le=\"+Inf\"} 2\n\
             berth_h_seconds_sum 2.25\n\
             berth_h_seconds_count 2\n"
        );
    }

    #[test]
    fn special_numbers_use_the_formats_spelling() {
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(1.5), "1.5");
        assert_eq!(number(1e-7), "0.0000001");
    }
}
